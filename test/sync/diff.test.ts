import { diff, missingEvent } from '../../src/sync/diff.js';
import { terminalSet } from '../../src/shared/status.js';
import { answerItem as lipsync, uuid } from '../helpers/lipsync.js';

const options = { terminalStatuses: terminalSet(['done', 'failed', 'rejected', 'cancelled']), now: new Date('2026-02-03T04:05:06.000Z'), epoch: 1_700_000_000_000, sequence: 4 };
const id = uuid(1);
const running = { status: 'running', progress: '0.4', failed_reason: null };

describe('diff', () => {
  it('emits lipsync.tracked on first sighting with previous all null', () => {
    const r = diff(null, lipsync({ id, status: 'running', progress: '0.1' }), options);
    expect(r.events.map((e) => e.type)).toEqual(['lipsync.tracked']);
    expect(r.events[0]?.data.previous).toEqual({ status: null, progress: null, failed_reason: null });
    expect(r.events[0]?.created_at).toBe('2026-02-03T04:05:06.000Z');
    expect(r.terminal).toBe(false);
  });

  it('emits tracked and failed when first seen already failed, and marks it terminal', () => {
    const r = diff(null, lipsync({ id, status: 'failed', failed_reason: 'face not detected' }), options);
    expect(r.events.map((e) => e.type)).toEqual(['lipsync.tracked', 'lipsync.failed']);
    expect(r.terminal).toBe(true);
  });

  it('emits nothing when nothing changed, ignoring status case and surrounding spaces', () => {
    const r = diff(running, lipsync({ id, status: ' RUNNING ', progress: '0.4 ' }), options);
    expect(r.events).toEqual([]);
    expect(r.changed).toEqual([]);
  });

  it('emits progress_changed alone when only progress moved, comparing as strings', () => {
    const r = diff(running, lipsync({ id, status: 'running', progress: '0.40' }), options);
    expect(r.events.map((e) => e.type)).toEqual(['lipsync.progress_changed']);
    expect(r.changed).toEqual(['progress']);
  });

  it('emits status_changed and completed with one shared data on running to done', () => {
    const r = diff(running, lipsync({ id, status: 'done', progress: '1', output: 'https://cdn.example/out.mp4' }), options);
    expect(r.events.map((e) => e.type)).toEqual(['lipsync.status_changed', 'lipsync.completed']);
    expect(r.events[0]?.data).toBe(r.events[1]?.data);
    expect(r.events[0]?.data.changed).toEqual(['status', 'progress']);
    expect(r.events[0]?.data.lipsync?.output).toBe('https://cdn.example/out.mp4');
    expect(r.terminal).toBe(true);
  });

  it('emits status_changed and failed on a move to failed', () => {
    const r = diff(running, lipsync({ id, status: 'failed', progress: '0.4', failed_reason: 'audio too long' }), options);
    expect(r.events.map((e) => e.type)).toEqual(['lipsync.status_changed', 'lipsync.failed']);
    expect(r.events[0]?.data.current.failed_reason).toBe('audio too long');
  });

  it('emits failed when failed_reason appears without a status change', () => {
    const r = diff(running, lipsync({ id, status: 'running', progress: '0.4', failed_reason: 'internal error' }), options);
    expect(r.events.map((e) => e.type)).toEqual(['lipsync.failed']);
    expect(r.changed).toEqual(['failed_reason']);
  });

  it('treats an empty failed_reason as none', () => {
    expect(diff(running, lipsync({ id, status: 'running', progress: '0.4', failed_reason: '' }), options).events).toEqual([]);
  });

  it('uses configured terminal statuses case-insensitively', () => {
    const custom = { ...options, terminalStatuses: terminalSet(['Archived']) };
    expect(diff(running, lipsync({ id, status: 'archived' }), custom).terminal).toBe(true);
    expect(diff(running, lipsync({ id, status: 'done' }), custom).terminal).toBe(false);
  });

  it('gives ids derived from lipsync, epoch, sequence and type: same change same id, different type different id', () => {
    const item = lipsync({ id, status: 'failed', failed_reason: 'x' });
    const a = diff(running, item, options);
    const b = diff(running, item, { ...options, now: new Date() });
    expect(a.events.map((e) => e.id)).toEqual(b.events.map((e) => e.id));
    expect(a.events[0]?.id).not.toBe(a.events[1]?.id);
    expect(a.events[0]?.id).toMatch(/^evt_[0-9a-f]{64}$/);
    expect(diff(running, item, { ...options, epoch: options.epoch + 1 }).events[0]?.id).not.toBe(a.events[0]?.id);
  });

  it('numbers each applied change: one sequence shared by the types of one change, unchanged when nothing changed', () => {
    const r = diff(running, lipsync({ id, status: 'done', progress: '1' }), options);
    expect(r.sequence).toBe(5);
    expect(r.events.map((e) => e.data.sequence)).toEqual([5, 5]);
    expect(diff(running, lipsync({ id, status: 'running', progress: '0.4' }), options).sequence).toBe(4);
  });

  it('gives a repeated transition (a requeued job) a new id', () => {
    const queued = { status: 'in_queue', progress: '0', failed_reason: null };
    const first = diff(queued, lipsync({ id, status: 'running', progress: '0' }), { ...options, sequence: 1 });
    const again = diff(queued, lipsync({ id, status: 'running', progress: '0' }), { ...options, sequence: 3 });
    expect(first.events.map((e) => e.type)).toEqual(again.events.map((e) => e.type));
    expect(first.events[0]?.id).not.toBe(again.events[0]?.id);
  });

  it('carries the answered object exactly as received, whatever the types of fields it does not read', () => {
    const item = lipsync({ id, status: 'running', progress: '0.5', video_thumbnail: null, credits_used: 1.5, extra: { nested: [1] } } as never);
    const r = diff(running, item, options);
    expect(r.events[0]?.data.lipsync).toMatchObject({ video_thumbnail: null, credits_used: 1.5, extra: { nested: [1] } });
  });

  it('builds a missing event with no lipsync object, its reason and the next sequence', () => {
    const e = missingEvent(id, running, { epoch: options.epoch, sequence: 4, now: options.now, reason: 'unreadable', detail: 'status: Required' });
    expect(e.type).toBe('lipsync.missing');
    expect(e.data).toMatchObject({ lipsync: null, previous: running, sequence: 5, reason: 'unreadable', detail: 'status: Required' });
    expect(missingEvent(id, running, { epoch: options.epoch, sequence: 4, now: new Date(), reason: 'unreadable' }).id).toBe(e.id);
  });
});
