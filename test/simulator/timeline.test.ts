import { describe, expect, it } from '@jest/globals';
import { lipsyncSchema } from '../../src/creatify/schema.js';
import {
  FAILED_REASONS,
  buildSteps,
  createRng,
  createTimelineLipsync,
  defaultLipsync,
  isUuid,
  randomUuidV4,
  renderTimelineLipsync,
  stepIndexAt,
  terminalAt,
} from '../../src/simulator/timeline.js';
import { DOC_EXAMPLE } from '../helpers/lipsync.js';

const T0 = Date.UTC(2026, 0, 1);

describe('createRng', () => {
  it('is deterministic per seed, in [0, 1), and differs across seeds', () => {
    const a = createRng(7);
    const b = createRng(7);
    const c = createRng(8);
    const seqA = Array.from({ length: 100 }, () => a());
    const seqB = Array.from({ length: 100 }, () => b());
    const seqC = Array.from({ length: 100 }, () => c());
    expect(seqA).toEqual(seqB);
    expect(seqA).not.toEqual(seqC);
    for (const x of seqA) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
    expect(new Set(seqA).size).toBeGreaterThan(95);
  });
});

describe('uuids', () => {
  it('randomUuidV4 yields distinct version-4 UUIDs', () => {
    const rng = createRng(1);
    const ids = Array.from({ length: 500 }, () => randomUuidV4(rng));
    expect(new Set(ids).size).toBe(500);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });

  it('isUuid accepts any-case 8-4-4-4-12 hex and nothing else', () => {
    expect(isUuid('3c90c3cc-0d44-4b50-8888-8dd25736052a')).toBe(true);
    expect(isUuid('3C90C3CC-0D44-4B50-8888-8DD25736052A')).toBe(true);
    expect(isUuid('3c90c3cc0d444b5088888dd25736052a')).toBe(false);
    expect(isUuid('3c90c3cc-0d44-4b50-8888-8dd25736052')).toBe(false);
    expect(isUuid('3c90c3cc-0d44-4b50-8888-8dd25736052g')).toBe(false);
    expect(isUuid(' 3c90c3cc-0d44-4b50-8888-8dd25736052a')).toBe(false);
    expect(isUuid('')).toBe(false);
  });
});

describe('object shape', () => {
  it('the doc example validates with lipsyncSchema', () => {
    expect(lipsyncSchema.safeParse(DOC_EXAMPLE).success).toBe(true);
  });

  it('defaultLipsync validates and carries exactly the documented fields', () => {
    const obj = defaultLipsync('3c90c3cc-0d44-4b50-8888-8dd25736052a', T0);
    expect(lipsyncSchema.safeParse(obj).success).toBe(true);
    expect(Object.keys(obj).sort()).toEqual(Object.keys(DOC_EXAMPLE).sort());
    expect(obj.created_at).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('buildSteps', () => {
  it('walks pending → in_queue → running (rising progress) → done|failed, with about 15 % failures', () => {
    const rng = createRng(123);
    const runs = 4000;
    const rank: Record<string, number> = { pending: 0, in_queue: 1, running: 2, done: 3, failed: 3 };
    const problems: string[] = [];
    let failed = 0;
    const reasons = new Set<string>();
    // Plain checks collected into `problems`: thousands of expect() calls make this test needlessly slow.
    for (let i = 0; i < runs; i++) {
      const steps = buildSteps(rng);
      const where = JSON.stringify(steps);
      const statuses = steps.map((s) => s.status);
      if (statuses[0] !== 'pending' || statuses[1] !== 'in_queue') problems.push(`bad start ${where}`);
      for (let k = 1; k < statuses.length; k++) {
        if ((rank[statuses[k] ?? ''] ?? -1) < (rank[statuses[k - 1] ?? ''] ?? 99)) problems.push(`backwards ${where}`);
      }
      const running = steps.filter((s) => s.status === 'running').map((s) => s.progress);
      if (!running.every((p) => /^0\.[1-9]$/.test(p))) problems.push(`progress format ${where}`);
      const nums = running.map(Number);
      for (let k = 1; k < nums.length; k++) {
        if (!((nums[k] ?? 0) > (nums[k - 1] ?? 1))) problems.push(`progress not rising ${where}`);
      }
      if (steps.slice(0, -1).some((s) => s.status === 'done' || s.status === 'failed')) {
        problems.push(`terminal before the end ${where}`);
      }
      const last = steps[steps.length - 1];
      if (last?.status === 'failed') {
        failed++;
        if (!FAILED_REASONS.some((r) => r === last.failed_reason)) problems.push(`reason ${where}`);
        reasons.add(last.failed_reason ?? '');
      } else if (last?.status !== 'done' || last.progress !== '1' || last.failed_reason !== null || running.length === 0) {
        problems.push(`bad done ${where}`);
      }
    }
    expect(problems).toEqual([]);
    expect(failed / runs).toBeGreaterThan(0.12);
    expect(failed / runs).toBeLessThan(0.18);
    expect(reasons.size).toBe(FAILED_REASONS.length);
  });
});

describe('timeline lipsyncs', () => {
  it('advance lazily with time, stay valid, and end terminal at terminalAt()', () => {
    const rng = createRng(99);
    const problems: string[] = [];
    for (let i = 0; i < 100; i++) {
      const id = randomUuidV4(rng);
      const tl = createTimelineLipsync(rng, id, T0, { stepMs: 1000 });
      expect(renderTimelineLipsync(tl, T0).status).toBe('pending');
      let prevIndex = -1;
      let prevUpdated = '';
      for (let t = T0; t <= terminalAt(tl) + 2000; t += 333) {
        const idx = stepIndexAt(tl, t);
        const obj = renderTimelineLipsync(tl, t);
        const at = `${id}@${t - T0}`;
        if (idx < prevIndex) problems.push(`index went back ${at}`);
        if (!lipsyncSchema.safeParse(obj).success) problems.push(`invalid ${at}`);
        if (obj.id !== id) problems.push(`id ${at}`);
        if (obj.updated_at < prevUpdated || Date.parse(obj.updated_at) > t) problems.push(`updated_at ${at}`);
        prevIndex = idx;
        prevUpdated = obj.updated_at;
      }
      const before = renderTimelineLipsync(tl, terminalAt(tl) - 1);
      const after = renderTimelineLipsync(tl, terminalAt(tl));
      expect(['done', 'failed']).not.toContain(before.status);
      expect(['done', 'failed']).toContain(after.status);
      if (after.status === 'done') {
        expect(after.output).toMatch(/^https:\/\//);
        expect(after.preview).toMatch(/^https:\/\//);
        expect(after.credits_used).toBeGreaterThan(0);
      } else {
        expect(after.output).toBeNull();
        expect(after.failed_reason).not.toBeNull();
      }
    }
    expect(problems).toEqual([]);
  });

  it('get random offsets (no lockstep) and sometimes extra unknown fields', () => {
    const rng = createRng(5);
    const tls = Array.from({ length: 100 }, () => createTimelineLipsync(rng, randomUuidV4(rng), T0, { stepMs: 1000 }));
    expect(new Set(tls.map((t) => t.offsetMs)).size).toBeGreaterThan(50);
    for (const t of tls) {
      expect(t.offsetMs).toBeGreaterThanOrEqual(0);
      expect(t.offsetMs).toBeLessThan(1000);
    }
    const withExtra = tls.filter((t) => Object.keys(t.base).some((k) => !(k in DOC_EXAMPLE)));
    expect(withExtra.length).toBeGreaterThan(10);
    expect(withExtra.length).toBeLessThan(100);
    for (const t of withExtra) expect(lipsyncSchema.safeParse(renderTimelineLipsync(t, T0)).success).toBe(true);
  });

  it('are reproduced exactly by the same seed', () => {
    const make = (seed: number) => {
      const rng = createRng(seed);
      return Array.from({ length: 20 }, () => createTimelineLipsync(rng, randomUuidV4(rng), T0, { stepMs: 500 }));
    };
    expect(make(11)).toEqual(make(11));
    expect(make(11)).not.toEqual(make(12));
  });
});
