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

  it('keeps good items and reports malformed ones with their id', () => {
    const result = parseListResponse([docExample, { ...docExample, id: '3C90C3CC-0D44-4B50-8888-8DD25736052B', aspect_ratio: 'bogus' }, 'junk']);
    if ('error' in result) throw new Error(result.error);
    expect(result.items).toHaveLength(1);
    expect(result.malformed.map((m) => [m.id, m.index])).toEqual([
      ['3c90c3cc-0d44-4b50-8888-8dd25736052b', 1],
      [null, 2],
    ]);
    expect(result.malformed[0]?.issues).toMatch(/aspect_ratio/);
  });

  it('reports a non-array answer as an error', () => {
    expect(parseListResponse({ detail: 'x' })).toEqual({ error: expect.stringMatching(/expected a JSON array/) });
  });
});
