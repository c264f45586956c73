import { performance } from 'node:perf_hooks';
import { parseListResponse, type AnswerItem } from '../src/creatify/schema.js';
import { UNKNOWN_STATE, type StoredState } from '../src/store/apply.js';
import { fieldsOf } from '../src/sync/diff.js';
import { planBatch } from '../src/sync/plan.js';
import { terminalSet } from '../src/shared/status.js';
import { answerItem, lipsync, uuidFor } from './env.js';
import { fmt, line, note, rate, section } from './stats.js';

const BATCH = 100;
const TERMINAL = terminalSet(['done', 'failed', 'rejected', 'cancelled']);

interface Mix {
  label: string;
  unchanged: number;
  progress: number;
  status: number;
  firstSeen: number;
}

/** A batch of 100 answered items and the stored states they are diffed against, in the given mix. */
function batchFor(mix: Mix, salt: number): { ids: string[]; items: AnswerItem[]; states: Map<string, StoredState> } {
  const ids: string[] = [];
  const items: AnswerItem[] = [];
  const states = new Map<string, StoredState>();
  for (let i = 0; i < BATCH; i += 1) {
    const id = uuidFor(i, salt);
    const item = answerItem(id, { status: 'running', progress: '0.5', updated_at: '2026-01-01T00:01:00Z' });
    const stored = { ...UNKNOWN_STATE, rev: 3, epoch: 1, sequence: 2, updatedAtMs: item.updatedAtMs };
    ids.push(id);
    items.push(item);
    const same = fieldsOf(item);
    let kind = i;
    if (kind < mix.unchanged) {
      states.set(id, { ...stored, fields: same, label: 'running' });
      continue;
    }
    kind -= mix.unchanged;
    if (kind < mix.progress) {
      states.set(id, { ...stored, fields: { ...same, progress: '0.4' }, label: 'running' });
      continue;
    }
    kind -= mix.progress;
    if (kind < mix.status) {
      states.set(id, { ...stored, fields: { ...same, status: 'pending', progress: '0' }, label: 'pending' });
      continue;
    }
    states.set(id, { ...UNKNOWN_STATE, epoch: 1 });
  }
  return { ids, items, states };
}

function timeLoop(maxMs: number, maxIterations: number, body: () => number): { iterations: number; ms: number; produced: number } {
  let produced = 0;
  for (let i = 0; i < 200; i += 1) body(); // warm-up (JIT)
  const started = performance.now();
  let iterations = 0;
  while (iterations < maxIterations && performance.now() - started < maxMs) {
    produced += body();
    iterations += 1;
  }
  return { iterations, ms: performance.now() - started, produced };
}

export function benchPlan(): void {
  section('1. diff + plan throughput (pure planBatch, batches of 100, no I/O)');
  const mixes: Mix[] = [
    { label: 'mix 70% unchanged / 20% progress / 8% status / 2% new', unchanged: 70, progress: 20, status: 8, firstSeen: 2 },
    { label: 'steady state: 100% unchanged', unchanged: 100, progress: 0, status: 0, firstSeen: 0 },
    { label: 'every item changed status', unchanged: 0, progress: 0, status: 100, firstSeen: 0 },
  ];
  for (const [index, mix] of mixes.entries()) {
    const { ids, items, states } = batchFor(mix, 0x100 + index);
    const now = new Date('2026-01-01T00:02:00Z');
    const result = timeLoop(1200, 200_000, () => {
      const plan = planBatch(ids, { items, unreadable: [], malformed: [] }, states, { terminalStatuses: TERMINAL, missingGraceCycles: 3, now });
      let events = 0;
      for (const op of plan.ops) events += op.events.length;
      return events;
    });
    const itemsPerSecond = rate(result.iterations * BATCH, result.ms);
    line(`planBatch, ${mix.label}`, `${fmt(itemsPerSecond)} items/s`, `${fmt(rate(result.iterations, result.ms))} batches/s, ${fmt((result.ms * 1000) / result.iterations, 1)} µs/batch, ${fmt(rate(result.produced, result.ms))} events/s`);
  }

  // The poll path also validates every answer with zod before diffing: same order of work, so measured here too.
  const answer = JSON.stringify(Array.from({ length: BATCH }, (_, i) => lipsync(uuidFor(i, 0x200), { status: 'running', progress: '0.5' })));
  const parsed = timeLoop(1200, 100_000, () => {
    const out = parseListResponse(JSON.parse(answer) as unknown);
    return 'items' in out ? out.items.length : 0;
  });
  line('JSON.parse + parseListResponse (100-item answer)', `${fmt(rate(parsed.produced, parsed.ms))} items/s`, `${fmt((parsed.ms * 1000) / parsed.iterations, 1)} µs per 100-item answer (${fmt(answer.length / 1024, 1)} KiB)`);
  note('both run on the poller\'s event loop for every batch; compare with the end-to-end poll rate in section 2');
}
