/**
 * Whole-process figures of the real worker (`node dist/cli/main.js run`, built from this tree) against the
 * simulator and a receiver, each in its own thread, on a private redis-server so INFO commandstats counts only
 * what the workers (and these few bench reads) sent:
 * 10. peak RSS (VmHWM) with 1,000 lipsyncs moving every second, 1 s poll interval;
 * 11. one worker, 100,000 tracked ids, 50 req/s allowed: peak RSS, cycle time, Redis commands per unchanged id;
 * 12. the same 100,000 ids with 3 worker processes: cycle time against the API bound ceil(N / 100) / rate.
 * Sections 11 and 12 share one fixture (ids tracked and answered once); either also runs alone.
 */
import type { Redis } from 'ioredis';
import type { ConfigInput } from '../src/config/schema.js';
import { startPrivateRedis, type PrivateRedis } from '../src/runtime/private-redis.js';
import { keysFor, type Keys } from '../src/store/keys.js';
import { TrackingStore } from '../src/store/tracking.js';
import { commandStats, SECRET, statsDelta, topCommands, total, uuidFor } from './env.js';
import { BenchReceiver } from './receiver.js';
import { record } from './results.js';
import { BenchSimulator } from './simulator.js';
import { fmt, line, note, section, sleep, waitFor } from './stats.js';
import { stopAllWorkers, WORKER_NODE_ARGS, WorkerProcess, type CycleLine } from './worker-process.js';
import { Redis as IORedis } from 'ioredis';

const MOVING_IDS = 1_000;
const MOVING_SECONDS = 20;
export const SCALE_IDS = 100_000;
export const SCALE_RATE = 50;
export const SCALE_REPLICAS = 3;
/** A cycle of 100,000 ids at 50 req/s takes ≥ 20 s; 3 × that bounds the wait for one. */
export const CYCLE_LIMIT_MS = 90_000;
export const PREFIX = 'bench';

/** What a worker needs to run against the bench's simulator, receiver and Redis. */
export function workerConfig(o: { redisUrl: string; simulatorUrl: string; receiverUrl: string; intervalMs: number; rate: number; events?: string[]; partitions?: number; cluster?: boolean }): ConfigInput {
  return {
    creatify: { baseUrl: o.simulatorUrl, apiId: 'bench-id', apiKey: 'bench-key', maxRequestsPerSecond: o.rate },
    redis: { url: o.redisUrl, prefix: PREFIX, ...(o.partitions === undefined ? {} : { partitions: o.partitions }), ...(o.cluster === undefined ? {} : { cluster: o.cluster }) },
    poll: { intervalMs: o.intervalMs },
    webhooks: [{ name: 'bench', url: `${o.receiverUrl}/hook`, secret: SECRET, ...(o.events === undefined ? {} : { events: o.events as never }) }],
    http: { port: 0, apiToken: 'bench-token-0123456789' },
    log: { level: 'info', pretty: false },
  };
}

/** ≤-goals: `peak RSS 120 MB: met (0.92× the 130 MB ceiling)`. */
export function ceilingLine(label: string, value: number, ceiling: number, unit: string, digits = 1): void {
  const ratio = value / ceiling;
  line(label, `${fmt(value, digits)} ${unit}`, `goal ≤ ${fmt(ceiling, digits)} ${unit}: ${ratio <= 1 ? 'met' : 'NOT met'} (${fmt(ratio, 2)}× the goal)`);
}

export async function waitCycles(workers: readonly WorkerProcess[], count: number, timeoutMs: number): Promise<CycleLine[]> {
  const all = (): CycleLine[] => workers.flatMap((w) => w.cycles).sort((a, b) => a.at - b.at);
  const ok = await waitFor(() => all().length >= count || workers.some((w) => !w.alive), timeoutMs, 50);
  const dead = workers.find((w) => !w.alive);
  if (dead) throw new Error(`worker ${dead.name} exited: ${dead.stderrTail}`);
  if (!ok) throw new Error(`${count} poll cycles not complete within ${timeoutMs / 1000} s (have ${all().length})`);
  return all();
}

export function sumCodes(all: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const codes of all) for (const [code, n] of Object.entries(codes)) out[code] = (out[code] ?? 0) + n;
  return out;
}

/** `used 30 / new 16 / old 40 / external 5 MB`: where the heap was largest, from the worker's own metrics. */
function heapText(worker: WorkerProcess): string {
  const p = worker.heapPeaks;
  const space = (name: string): string => fmt(p[`space:${name}`] ?? NaN, 1);
  return `heap used ${fmt(p['heapUsed'] ?? NaN, 1)}; spaces new ${space('new')} / old ${space('old')} / large objects ${space('large_object')} / code ${space('code')}; external ${fmt(p['external'] ?? NaN, 1)} MB (peaks per reading)`;
}

// ---------------------------------------------------------------------------------------------------------- 10

export async function benchWorkerMoving(): Promise<void> {
  section(`10. worker peak RSS, ${fmt(MOVING_IDS)} lipsyncs moving every second, 1 s poll interval (built CLI worker, VmHWM)`);
  const redis = await startPrivateRedis();
  const admin = new IORedis(redis.url, { maxRetriesPerRequest: null });
  line('worker started as', `node ${WORKER_NODE_ARGS.join(' ')} dist/cli/main.js run`.replace(/ {2,}/g, ' '), 'the image\'s V8 heap flags unless BENCH_WORKER_NODE_ARGS says otherwise');
  record('worker_node_args', WORKER_NODE_ARGS.join(' '));
  const simulator = await BenchSimulator.start(9);
  const receiver = await BenchReceiver.start({ secret: SECRET, parseBodies: false, verifyEvery: 97, keepRecords: false });
  try {
    const ids = Array.from({ length: MOVING_IDS }, (_, i) => uuidFor(i, 0x9000));
    await simulator.set(ids, { status: 'running', progress: '0' });
    const worker = WorkerProcess.start('moving', workerConfig({ redisUrl: redis.url, simulatorUrl: simulator.baseUrl, receiverUrl: receiver.url, intervalMs: 1000, rate: 50 }));
    await worker.waitRunning();
    await sleep(2000);
    const idleRss = worker.rssMb();
    const idlePeak = worker.peakRssMb();
    await new TrackingStore(admin, keysFor(PREFIX), 3600).track(ids);
    const started = Date.now();
    for (let s = 1; s <= MOVING_SECONDS; s += 1) {
      await simulator.set(ids, { progress: (s / (MOVING_SECONDS + 1)).toFixed(3) });
      if (s % 2 === 0) await worker.creatifyRequests();
      await sleep(Math.max(0, started + s * 1000 - Date.now()));
    }
    await simulator.set(ids, { status: 'done', progress: '1', output: 'https://cdn.example/out.mp4' });
    // Drained when every id left the pending set and the receiver has been quiet for 2 s.
    const keys = keysFor(PREFIX);
    let last = -1;
    await waitFor(async () => {
      await receiver.flush();
      const quiet = receiver.counts.requests === last;
      last = receiver.counts.requests;
      return quiet && (await admin.zcard(keys.pending)) === 0 && (await admin.xlen(keys.events)) === 0;
    }, 30_000, 2000);
    const peak = worker.peakRssMb();
    const codes = await worker.creatifyRequests();
    await worker.stop();
    line('idle worker RSS (running, nothing tracked)', `${fmt(idleRss, 1)} MB`, `VmHWM so far ${fmt(idlePeak, 1)} MB`);
    ceilingLine(`peak RSS (VmHWM), ${fmt(MOVING_IDS)} moving`, peak, 130, 'MB');
    line('    peak − idle', `${fmt(peak - idleRss, 1)} MB`, `${fmt(receiver.unique)} deliveries received (${fmt(receiver.counts.requests)} requests), Creatify answers ${JSON.stringify(codes)}`);
    line('    V8 heap at its largest (scrapes every 2 s)', `${fmt(worker.heapPeaks['heapTotal'] ?? NaN, 1)} MB`, heapText(worker));
    if (worker.warnings.length > 0) note(`worker warnings: ${worker.warnings.length}, first: ${worker.warnings[0]}`);
    record('worker_idle_rss_mb', Number(idleRss.toFixed(1)));
    record('worker_peak_rss_mb_1k', Number(peak.toFixed(1)));
    note(`every id changes progress each second for ${MOVING_SECONDS} s, then all finish (2 events each); /metrics is scraped every 2 s`);
  } finally {
    await stopAllWorkers();
    admin.disconnect();
    await Promise.allSettled([simulator.stop(), receiver.stop()]);
    await redis.stop();
  }
}

// ------------------------------------------------------------------------------------------------- 11 and 12

interface ScaleFixture {
  redis: PrivateRedis;
  admin: Redis;
  keys: Keys;
  simulator: BenchSimulator;
  receiver: BenchReceiver;
  /** At least one full cycle has answered every id (so a cycle now is the steady, unchanged case). */
  warmed: boolean;
}

let fixture: Promise<ScaleFixture> | null = null;

function scaleFixture(): Promise<ScaleFixture> {
  fixture ??= (async () => {
    const redis = await startPrivateRedis();
    const admin = new IORedis(redis.url, { maxRetriesPerRequest: null });
    const simulator = await BenchSimulator.start(10, SCALE_RATE);
    const receiver = await BenchReceiver.start({ secret: SECRET, parseBodies: false, verifyEvery: 97, keepRecords: false });
    const keys = keysFor(PREFIX);
    const ids = Array.from({ length: SCALE_IDS }, (_, i) => uuidFor(i, 0xa000));
    await simulator.set(ids, { status: 'running', progress: '0.5' });
    const started = Date.now();
    await new TrackingStore(admin, keys, 3600).track(ids);
    line(`tracked ${fmt(SCALE_IDS)} ids (TrackingStore.track)`, `${fmt((Date.now() - started) / 1000, 1)} s`, 'simulator allows 50 req/s (sliding 1 s window, 429 beyond)');
    return { redis, admin, keys, simulator, receiver, warmed: false };
  })();
  return fixture;
}

/** Ends sections 11/12's shared fixture; called by main after the last section. */
export async function closeScaleFixture(): Promise<void> {
  const current = fixture;
  fixture = null;
  if (current === null) return;
  await stopAllWorkers();
  const f = await current.catch(() => null);
  if (f === null) return;
  f.admin.disconnect();
  await Promise.allSettled([f.simulator.stop(), f.receiver.stop()]);
  await f.redis.stop();
}

/** The subscribed events of the scale runs: status moves, not the 100,000 first sightings. */
export const SCALE_EVENTS = ['lipsync.status_changed', 'lipsync.completed', 'lipsync.failed', 'lipsync.missing'];

/** Runs `replicas` workers until `measured` steady cycles complete; returns their cycle lines and command counts. */
async function scaleRun(f: ScaleFixture, replicas: number, measured: number) {
  const config = workerConfig({ redisUrl: f.redis.url, simulatorUrl: f.simulator.baseUrl, receiverUrl: f.receiver.url, intervalMs: 2000, rate: SCALE_RATE, events: SCALE_EVENTS });
  const workers = Array.from({ length: replicas }, (_, i) => WorkerProcess.start(`scale-${replicas}-${i}`, config));
  await Promise.all(workers.map((w) => w.waitRunning()));
  const idleRss = Math.max(...workers.map((w) => w.rssMb()));
  // The first cycle is the warm-up: first sightings when the fixture is fresh, or a cycle a previous run began.
  const scrape = setInterval(() => void Promise.all(workers.map((w) => w.creatifyRequests().catch(() => ({})))), 5000);
  try {
    let cycles = await waitCycles(workers, 1, CYCLE_LIMIT_MS * 2);
    const firstCycle = cycles[0];
    f.warmed = true;
    const before = await commandStats(f.admin);
    const codesBefore = sumCodes(await Promise.all(workers.map((w) => w.creatifyRequests())));
    cycles = await waitCycles(workers, 1 + measured, CYCLE_LIMIT_MS * measured);
    const after = await commandStats(f.admin);
    const codesAfter = sumCodes(await Promise.all(workers.map((w) => w.creatifyRequests())));
    const codes = Object.fromEntries(Object.entries(codesAfter).map(([c, n]) => [c, n - (codesBefore[c] ?? 0)]));
    const commands = statsDelta(before, after);
    commands.delete('info');
    const steady = cycles.slice(1, 1 + measured);
    const peaks = workers.map((w) => w.peakRssMb());
    return { workers, idleRss, firstCycle, steady, commands, codes, peaks };
  } finally {
    clearInterval(scrape);
  }
}

export async function benchWorkerScale(): Promise<void> {
  section(`11. one worker, ${fmt(SCALE_IDS)} tracked ids, ${SCALE_RATE} req/s allowed: peak RSS, cycle time, Redis commands per unchanged id`);
  record('worker_node_args', WORKER_NODE_ARGS.join(' '));
  const f = await scaleFixture();
  const fresh = !f.warmed;
  const run = await scaleRun(f, 1, 2);
  const [worker] = run.workers;
  const bound = Math.ceil(SCALE_IDS / 100) / SCALE_RATE;
  try {
    const peak = run.peaks[0] ?? Number.NaN;
    line('idle worker RSS (running, before its first cycle)', `${fmt(run.idleRss, 1)} MB`);
    if (worker) line('    V8 heap at its largest (scrapes every 5 s)', `${fmt(worker.heapPeaks['heapTotal'] ?? NaN, 1)} MB`, heapText(worker));
    ceilingLine(`peak RSS (VmHWM), ${fmt(SCALE_IDS)} ids polled`, peak, 160, 'MB');
    if (run.firstCycle) line(`    first cycle${fresh ? ' (every id first seen: 100,000 lipsync.tracked appended)' : ''}`, `${fmt(run.firstCycle.seconds, 1)} s`, `${fmt(run.firstCycle.requests)} requests, ${fmt(run.firstCycle.events)} events`);
    const seconds = run.steady.map((c) => c.seconds);
    const mean = seconds.reduce((a, b) => a + b, 0) / Math.max(1, seconds.length);
    ceilingLine('steady cycle time, 1 replica', mean, 1.3 * bound, 's');
    line('    cycles / API bound ceil(N/100)/rate', `${fmt(mean / bound, 2)}×`, `cycles ${seconds.map((s) => fmt(s, 1)).join(', ')} s; bound ${fmt(bound, 1)} s; Creatify answers ${JSON.stringify(run.codes)}`);
    const polled = run.steady.reduce((a, c) => a + c.ids, 0);
    const perId = total(run.commands) / Math.max(1, polled);
    ceilingLine('Redis commands per unchanged id (server, all clients)', perId, 1.5, 'cmd/id', 2);
    line('    by command, per id', '', topCommands(run.commands, Math.max(1, polled), 10));
    record('worker_peak_rss_mb_100k', Number(peak.toFixed(1)));
    record('redis_commands_per_unchanged_id', Number(perId.toFixed(3)));
    record('cycle_vs_api_bound_100k_1_replica', Number((mean / bound).toFixed(3)));
    note('commands are INFO commandstats deltas on a private redis-server between two cycle ends: every poll, scheduler, BullMQ, dispatcher and /metrics command of that span, divided by ids polled');
  } finally {
    await worker?.stop();
  }
}

export async function benchCycleReplicas(): Promise<void> {
  section(`12. ${fmt(SCALE_IDS)}-id cycle, ${SCALE_REPLICAS} worker processes, ${SCALE_RATE} req/s allowed: cycle time against the API bound`);
  const f = await scaleFixture();
  const run = await scaleRun(f, SCALE_REPLICAS, 2);
  try {
    const bound = Math.ceil(SCALE_IDS / 100) / SCALE_RATE;
    const seconds = run.steady.map((c) => c.seconds);
    const mean = seconds.reduce((a, b) => a + b, 0) / Math.max(1, seconds.length);
    ceilingLine(`cycle time, ${SCALE_REPLICAS} replicas`, mean, 1.3 * bound, 's');
    line('    cycle / API bound ceil(N/100)/rate', `${fmt(mean / bound, 2)}×`, `goal ≤ 1.3×; cycles ${seconds.map((s) => fmt(s, 1)).join(', ')} s; bound ${fmt(bound, 1)} s; Creatify answers ${JSON.stringify(run.codes)}`);
    const polled = run.steady.reduce((a, c) => a + c.ids, 0);
    line('    Redis commands per unchanged id (3 replicas)', fmt(total(run.commands) / Math.max(1, polled), 2), topCommands(run.commands, Math.max(1, polled), 8));
    line('    peak RSS per replica (VmHWM)', run.peaks.map((p) => fmt(p, 0)).join(' / ') + ' MB', `idle ${fmt(run.idleRss, 0)} MB`);
    record('cycle_seconds_100k', Number(mean.toFixed(2)));
    record('cycle_vs_api_bound_100k', Number((mean / bound).toFixed(3)));
    record('ids', SCALE_IDS);
    record('replicas', SCALE_REPLICAS);
    record('rate_per_s', SCALE_RATE);
  } finally {
    await Promise.all(run.workers.map((w) => w.stop()));
  }
}
