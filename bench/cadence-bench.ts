/**
 * Section 9: fixed round robin vs smart cadence (`poll.cadence`) on one simulator timeline, on a fake clock.
 * The scheduler is modelled (ticks every interval, a cycle claim that skips a tick while the previous cycle
 * runs, one Redis-wide limiter of r requests/s, ≤100 ids per request); what decides is the real code: the
 * simulator's timelines (src/simulator/timeline.ts) and the cadence module (src/sync/cadence.ts). The
 * smaller real case (9b) runs the real PollQueue on Redis against the HTTP simulator; the per-status periods
 * and the ceiling are asserted by test/sync/poll-queue.cadence.test.ts.
 */
import { batchBudget, cadenceFrom, dueHorizon, nextDueTimes, type Cadence } from '../src/sync/cadence.js';
import { createRng, createTimelineLipsync, randomUuidV4, stepIndexAt, stepReachedAt, type TimelineLipsync } from '../src/simulator/timeline.js';
import { chunk } from '../src/shared/chunk.js';
import { cadenceSchema, DEFAULTS } from '../src/config/schema.js';
import { CreatifyClient } from '../src/creatify/client.js';
import type { ChangeEvent } from '../src/events/types.js';
import { CreatifySimulator } from '../src/simulator/server.js';
import { keysFor } from '../src/store/keys.js';
import { TrackingStore } from '../src/store/tracking.js';
import { NOOP_OBSERVER } from '../src/sync/observer.js';
import { PollQueue } from '../src/sync/poll-queue.js';
import { terminalSet } from '../src/shared/status.js';
import { cleanupPrefix, logger, newPrefix, newRedis, uuidFor } from './env.js';
import { record } from './results.js';
import { fmt, fmtSummary, line, note, section, summarize } from './stats.js';

const IDS = 5000;
const RATE = 5;
const INTERVAL_MS = 2000;
const BATCH = 100;
const STEP_MS = 20_000;
/** Lipsyncs start rendering spread over this window: most of the 5,000 wait (pending) at any moment. */
const START_WINDOW_MS = 600_000;
/** Round trip of one list request in the model; a cycle ends this long after its last request is sent. */
const REQUEST_MS = 150;
const HORIZON_MS = 1_500_000;
/** The benches' cadence: running and new ids every interval, waiting ones every 4, the rest every 2. */
function cadenceConfig(intervalMs: number, idleAfterMs: number, maxPeriodMs: number) {
  return cadenceSchema.parse({
    periodMs: { running: intervalMs, new: intervalMs, pending: 4 * intervalMs, in_queue: 4 * intervalMs, default: 2 * intervalMs },
    idleAfterMs,
    maxPeriodMs,
  });
}

const CADENCE = cadenceConfig(INTERVAL_MS, 30_000, 60_000);

interface Tracked {
  id: string;
  tl: TimelineLipsync;
  known: { status: string; progress: string; changedAtMs: number } | null;
  due: number;
  lastPollMs: number | null;
  done: boolean;
}

interface RunResult {
  requests: number;
  changes: number;
  /** Ms from the simulator's final step to the daemon seeing it, per lipsync. */
  finalDetection: number[];
  runningToDone: number[];
  /** Longest gap between two polls of one id. */
  maxGapMs: number;
}

function timelines(): Tracked[] {
  const rng = createRng(12);
  return Array.from({ length: IDS }, () => {
    const id = randomUuidV4(rng);
    const tl = createTimelineLipsync(rng, id, Math.floor(rng() * START_WINDOW_MS), { stepMs: STEP_MS });
    return { id, tl, known: null, due: 0, lastPollMs: null, done: false };
  });
}

/** One strategy over the whole timeline: which ids each tick asks for decides everything else. */
function simulate(cadence: Cadence | null): RunResult {
  const ids = timelines();
  const result: RunResult = { requests: 0, changes: 0, finalDetection: [], runningToDone: [], maxGapMs: 0 };
  let nextSlot = 0;
  let busyUntil = 0;
  for (let now = 0; now < HORIZON_MS && ids.some((t) => !t.done); now += INTERVAL_MS) {
    if (busyUntil > now) continue; // the cycle claim: never two cycles (so never one id twice) at once
    const live = ids.filter((t) => !t.done);
    const asked = cadence === null ? live : live.filter((t) => t.due <= dueHorizon(now, INTERVAL_MS)).sort((a, b) => a.due - b.due).slice(0, batchBudget(RATE, INTERVAL_MS) * BATCH);
    for (const batch of chunk(asked, BATCH)) {
      const at = Math.max(now, nextSlot);
      nextSlot = at + 1000 / RATE;
      busyUntil = at + REQUEST_MS;
      result.requests += 1;
      for (const t of batch) poll(t, at, now, cadence, result);
    }
  }
  return result;
}

function poll(t: Tracked, at: number, cycleStart: number, cadence: Cadence | null, result: RunResult): void {
  if (t.lastPollMs !== null) result.maxGapMs = Math.max(result.maxGapMs, at - t.lastPollMs);
  t.lastPollMs = at;
  const index = stepIndexAt(t.tl, at);
  const step = t.tl.steps[index];
  if (step === undefined) return;
  if (t.known === null || t.known.status !== step.status || t.known.progress !== step.progress) {
    if (t.known !== null) result.changes += 1;
    t.known = { status: step.status, progress: step.progress, changedAtMs: at };
  }
  if (index === t.tl.steps.length - 1) {
    t.done = true;
    const latency = at - stepReachedAt(t.tl, index);
    result.finalDetection.push(latency);
    if (step.status === 'done' && t.tl.steps[index - 1]?.status === 'running') result.runningToDone.push(latency);
    return;
  }
  if (cadence !== null) t.due = nextDueTimes(cadence, [{ id: t.id, status: t.known.status, changedAtMs: t.known.changedAtMs }], cycleStart, at)[0]?.[1] ?? at;
}

export function benchCadence(): void {
  const roundRobinMs = (Math.ceil(IDS / BATCH) / RATE) * 1000;
  section(`9. smart cadence vs round robin (${fmt(IDS)} ids, ${RATE} req/s, interval ${INTERVAL_MS / 1000} s, one seeded timeline, fake clock)`);
  note(`timelines: start spread over ${START_WINDOW_MS / 1000} s, ${STEP_MS / 1000} s per step; cadence ${JSON.stringify(CADENCE)}`);
  const rr = simulate(null);
  const smart = simulate(cadenceFrom(CADENCE, INTERVAL_MS));
  const rows: Array<[string, RunResult]> = [['round robin', rr], ['smart cadence', smart]];
  for (const [name, r] of rows) {
    line(`${name}: final-status detection`, fmtSummary(summarize(r.finalDetection.map((ms) => ms / 1000)), 's'));
    line(`${name}: running → done detection`, fmtSummary(summarize(r.runningToDone.map((ms) => ms / 1000)), 's'));
    line(`${name}: API requests per detected change`, fmt(r.requests / Math.max(1, r.changes), 2), `${fmt(r.requests)} requests, ${fmt(r.changes)} changes`);
    line(`${name}: longest wait between two polls of an id`, `${fmt(r.maxGapMs / 1000, 1)} s`);
  }
  const smartP99 = summarize(smart.runningToDone).p99;
  const rrP99 = summarize(rr.runningToDone).p99;
  line('goal: running → done p99 ≤ 2 × interval', `${fmt(smartP99 / 1000, 1)} s`, `${smartP99 <= 2 * INTERVAL_MS ? 'met' : 'MISSED'} (goal ${fmt((2 * INTERVAL_MS) / 1000, 1)} s; round robin needs ceil(N/100)/r = ${fmt(roundRobinMs / 1000, 1)} s, measured p99 ${fmt(rrP99 / 1000, 1)} s)`);
  line('ratio round robin p99 / cadence p99 (running → done)', fmt(rrP99 / smartP99, 2));
  const ceiling = CADENCE.maxPeriodMs;
  line('goal: no id waits longer than its ceiling', `${fmt(smart.maxGapMs / 1000, 1)} s`, `${smart.maxGapMs <= ceiling ? 'met' : 'MISSED'} (maxPeriodMs ${fmt(ceiling / 1000, 1)} s)`);
  line('ratio requests per change, round robin / cadence', fmt(rr.requests / Math.max(1, rr.changes) / (smart.requests / Math.max(1, smart.changes)), 2));
  record('cadence_ids', IDS);
  record('cadence_requests_per_second', RATE);
  record('cadence_running_done_p99_s', smartP99 / 1000);
  record('round_robin_running_done_p99_s', rrP99 / 1000);
  record('cadence_running_done_p99_ratio_goal', Number((smartP99 / (2 * INTERVAL_MS)).toFixed(3)));
  record('round_robin_over_cadence_p99_ratio', Number((rrP99 / smartP99).toFixed(3)));
  record('cadence_max_wait_ratio_ceiling', Number((smart.maxGapMs / ceiling).toFixed(3)));
  record('cadence_requests_per_change', Number((smart.requests / Math.max(1, smart.changes)).toFixed(3)));
  record('round_robin_requests_per_change', Number((rr.requests / Math.max(1, rr.changes)).toFixed(3)));
}

const REAL_STATIC = 2000;
const REAL_TIMELINES = 100;
const REAL_RATE = 5;
const REAL_INTERVAL_MS = 1000;
/** The still ids are polled alone this long first, so the moving ones start against a settled schedule. */
const REAL_WARMUP_MS = 8000;
const REAL_RUN_MS = 20_000;
const REAL_CADENCE = cadenceConfig(REAL_INTERVAL_MS, 2000, 16_000);

/**
 * The smaller real case: a real PollQueue (BullMQ ticks, Redis limiter, Lua) against the HTTP simulator,
 * 2,000 ids that stay pending, then (after a warm-up) 100 random timelines; detection = the final event's
 * created_at minus the simulator's updated_at of the final step (the time of the change).
 */
async function realRun(cadence: Cadence | null): Promise<{ detection: number[]; runningToDone: number[]; requests: number; events: number }> {
  const prefix = newPrefix(cadence === null ? 'rr' : 'cadence');
  const keys = keysFor(prefix);
  const redis = newRedis('cadence');
  const bull = newRedis('cadence-bull');
  const sim = new CreatifySimulator({ seed: 7, stepMs: 2000 });
  const client = new CreatifyClient({ baseUrl: await sim.start(), timeoutMs: 5000, retries: 1, maxResponseBytes: DEFAULTS.creatifyMaxResponseBytes });
  const store = new TrackingStore(redis, keys, 3600);
  const deps = { redis, keys, client, observer: NOOP_OBSERVER, logger, terminalStatuses: terminalSet(['done', 'failed']), missingGraceCycles: 3, retentionSeconds: 3600, ...(cadence === null ? {} : { cadence }) };
  const poll = new PollQueue({ connection: bull, keys, store, intervalMs: REAL_INTERVAL_MS, batchSize: BATCH, concurrency: 4, maxRequestsPerSecond: REAL_RATE, deps, logger });
  try {
    const still = Array.from({ length: REAL_STATIC }, (_, i) => uuidFor(i, 0x9000));
    still.forEach((id) => sim.set(id, { status: 'pending' }));
    await store.track(still);
    await poll.schedule();
    poll.start();
    await new Promise((resolve) => setTimeout(resolve, REAL_WARMUP_MS));
    const requestsBefore = sim.requests.length;
    await store.track(sim.addRandom(REAL_TIMELINES));
    await new Promise((resolve) => setTimeout(resolve, REAL_RUN_MS));
    await poll.queue.removeJobScheduler('poll-tick');
    const entries = await redis.xrange(keys.events, '-', '+');
    const events = entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('event') + 1] ?? '{}') as ChangeEvent);
    const finals = events.filter((e) => e.type === 'lipsync.completed' || e.type === 'lipsync.failed');
    const latency = (e: ChangeEvent): number => Date.parse(e.created_at) - Date.parse(String(e.data.lipsync?.['updated_at']));
    const runningToDone = finals.filter((e) => e.type === 'lipsync.completed' && e.data.previous?.status === 'running').map(latency);
    return { detection: finals.map(latency), runningToDone, requests: sim.requests.length - requestsBefore, events: events.filter((e) => e.type !== 'lipsync.tracked').length };
  } finally {
    await poll.close(5000);
    client.close();
    await sim.stop();
    await cleanupPrefix(prefix);
    redis.disconnect();
    bull.disconnect();
  }
}

export async function benchCadenceReal(): Promise<void> {
  section(`9b. the same comparison for real (PollQueue + Redis + HTTP simulator): ${fmt(REAL_STATIC)} still + ${REAL_TIMELINES} moving ids, ${REAL_RATE} req/s, interval ${REAL_INTERVAL_MS / 1000} s, ${(REAL_WARMUP_MS + REAL_RUN_MS) / 1000} s each`);
  for (const [name, cadence] of [['round robin', null], ['smart cadence', cadenceFrom(REAL_CADENCE, REAL_INTERVAL_MS)]] as const) {
    const r = await realRun(cadence);
    line(`${name}: final-status detection`, fmtSummary(summarize(r.detection.map((ms) => ms / 1000)), 's'), `${r.detection.length} finished`);
    line(`${name}: running → done detection`, fmtSummary(summarize(r.runningToDone.map((ms) => ms / 1000)), 's'), `${r.runningToDone.length} seen running, then done`);
    line(`${name}: API requests per change event`, fmt(r.requests / Math.max(1, r.events), 2), `${fmt(r.requests)} requests, ${fmt(r.events)} events`);
  }
  note(`goal: cadence running → done p99 ≤ 2 × interval = ${(2 * REAL_INTERVAL_MS) / 1000} s; round robin needs ceil(N/100)/r = ${fmt(Math.ceil((REAL_STATIC + REAL_TIMELINES) / BATCH) / REAL_RATE, 2)} s per cycle`);
}
