import { lipsyncSchema, parseListResponse } from '../../src/creatify/schema.js';
import { DOC_EXAMPLE } from '../helpers/lipsync.js';

const docExample = DOC_EXAMPLE;

const REQUIRED = ['id', 'output', 'video_thumbnail', 'created_at', 'updated_at', 'credits_used', 'duration', 'progress', 'failed_reason', 'status', 'preview', 'editor_url', 'aspect_ratio', 'video_inputs'];
const NULLABLE = ['output', 'failed_reason', 'preview', 'editor_url', 'name', 'media_job', 'webhook_url'];

describe('lipsync schema', () => {
  it('accepts the documented example', () => {
    expect(lipsyncSchema.safeParse(docExample).success).toBe(true);
  });

  it.each(REQUIRED)('fails when required field %s is missing', (field) => {
    const copy: Record<string, unknown> = { ...docExample };
    delete copy[field];
    expect(lipsyncSchema.safeParse(copy).success).toBe(false);
  });

  it.each(NULLABLE)('accepts null for nullable field %s', (field) => {
    expect(lipsyncSchema.safeParse({ ...docExample, [field]: null }).success).toBe(true);
  });

  it.each(['status', 'progress', 'video_thumbnail', 'aspect_ratio', 'created_at'])('rejects null for non-nullable %s', (field) => {
    expect(lipsyncSchema.safeParse({ ...docExample, [field]: null }).success).toBe(false);
  });

  it('accepts a missing optional field and keeps unknown extra fields', () => {
    const { name: _name, media_job: _mj, webhook_url: _wu, ...rest } = docExample;
    const parsed = lipsyncSchema.parse({ ...rest, brand_new_field: { x: 1 } });
    expect(parsed['brand_new_field']).toEqual({ x: 1 });
  });

  it('rejects an aspect ratio outside 16x9, 1x1, 9x16 and a non-integer duration', () => {
    expect(lipsyncSchema.safeParse({ ...docExample, aspect_ratio: '4x3' }).success).toBe(false);
    expect(lipsyncSchema.safeParse({ ...docExample, duration: 1.5 }).success).toBe(false);
  });

  it('passes fields the daemon does not read through as given, whatever their type', () => {
    const drifted = { ...docExample, video_thumbnail: null, duration: null, credits_used: 1.5, aspect_ratio: '4x3', video_inputs: null, brand_new: { x: 1 } };
    const result = parseListResponse([drifted]);
    if ('error' in result) throw new Error(result.error);
    expect(result.unreadable).toEqual([]);
    expect(result.items[0]?.raw).toBe(drifted);
  });

  it('reads progress given as a number as its string form, and an absent progress as null', () => {
    const result = parseListResponse([{ ...docExample, progress: 0.4 }, { ...docExample, id: '3c90c3cc-0d44-4b50-8888-8dd25736052b', progress: null }]);
    if ('error' in result) throw new Error(result.error);
    expect(result.items.map((i) => i.progress)).toEqual(['0.4', null]);
    expect(result.items[0]?.raw['progress']).toBe(0.4);
  });

  it('treats an updated_at that does not parse as absent, never as unreadable', () => {
    const result = parseListResponse([{ ...docExample, updated_at: 'yesterday' }]);
    if ('error' in result) throw new Error(result.error);
    expect(result.items[0]?.updatedAtMs).toBeNull();
    expect(parseListResponse([docExample])).toMatchObject({ items: [{ updatedAtMs: Date.parse('2023-11-07T05:31:56Z') }] });
  });

  it.each([
    ['no status', { status: undefined }, /status/],
    ['an empty status', { status: '  ' }, /status/],
    ['a status that is not a string', { status: 3 }, /status/],
    ['progress as an object', { progress: { p: 1 } }, /progress/],
    ['failed_reason as a number', { failed_reason: 5 }, /failed_reason/],
  ])('reports an item with a readable id but %s as unreadable, with its id', (_label, patch, message) => {
    const result = parseListResponse([{ ...docExample, id: docExample.id.toUpperCase(), ...patch }]);
    if ('error' in result) throw new Error(result.error);
    expect(result.items).toEqual([]);
    expect(result.unreadable).toEqual([{ id: docExample.id, index: 0, issues: expect.stringMatching(message) }]);
  });

  it('reports items without a readable id as malformed and keeps the rest', () => {
    const result = parseListResponse([docExample, 'junk', { ...docExample, id: 'not-a-uuid' }, null]);
    if ('error' in result) throw new Error(result.error);
    expect(result.items).toHaveLength(1);
    expect(result.malformed.map((m) => m.index)).toEqual([1, 2, 3]);
    expect(result.malformed[1]?.issues).toMatch(/^id:/);
  });

  it('reports a non-array answer as an error', () => {
    expect(parseListResponse({ detail: 'x' })).toEqual({ error: expect.stringMatching(/expected a JSON array/) });
  });
});
