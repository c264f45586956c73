/**
 * Runs one chaos scenario end to end: private Redis, simulator behind the upstream proxy, two signed
 * endpoints, N daemon replicas; drives the scripted timeline, lets the scenario disrupt, waits (bounded)
 * for delivery, then judges.
 * Invariant: everything started here is stopped in the `finally`, whatever fails; every wait has a deadline.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreatifySimulator } from '../../src/simulator/server.js';
import { createRng, pick, type Rng } from '../../src/simulator/timeline.js';
import { generateSecret } from '../../src/webhooks/secret.js';
import { ChaosEndpoint } from './endpoint.js';
import { parseExposition, valueOf } from '../helpers/prometheus.js';
import { percentile, sleep, waitFor } from '../../bench/stats.js';
import { ChaosRedis, Replica, removeOnExit } from './processes.js';
import { buildScript, expectedEvents, stepAt, terminalAt, type ExpectedEvent, type ScriptedLipsync, type ScriptedStep } from './script.js';
import { Upstream } from './upstream.js';
import { judgeEndpoint, longestPollGap, mergeVerdicts, type DeliveryVerdict, type PollWindow } from './verdict.js';

export interface Sizes {
  lipsyncs: number;
  intervalMs: number;
  short: boolean;
  /** `redis.partitions` of the replicas (`--partitions`, default 1). */
  partitions: number;
}

export interface ScenarioSpec {
  name: string;
  replicas: number;
  holdMs: number;
  /** Lipsyncs start over this window (default min(holdMs, 5 s)); a longer one keeps ids moving for longer. */
  spreadMs?: number;
  requeueRate: number;
  /** Chance per list request of an injected fault (upstream drift). */
  faultRate: number;
  /** Fraction of lipsyncs answered with loose types on fields the daemon does not diff, on every answer. */
  looseTypeRate: number;
  /** Extra time allowed after the last final status for deliveries to arrive. */
  drainMs: number;
  gapLimitMs: number;
  /** Runs alongside the timeline until `until` (unix ms); returns failed checks (empty = fine) and notes. */
  disrupt?: (ctx: RunContext, until: number) => Promise<string[]>;
  /** After delivery settled, before the replicas stop: more checks (e.g. metrics). */
  inspect?: (ctx: RunContext) => Promise<string[]>;
}

export interface RunContext {
  sizes: Sizes;
  rng: Rng;
  redis: ChaosRedis;
  replicas: Replica[];
  upstream: Upstream;
  endpoints: ChaosEndpoint[];
  startedAt: number;
  /** Notes for the report (not failures). */
  notes: string[];
  /** Disruptions as they happened (unix ms), to name the ones behind a long poll gap. */
  disruptions: Array<{ at: number; what: string }>;
}

export interface ScenarioResult {
  name: string;
  verdict: DeliveryVerdict;
  maxGapMs: number;
  gapLimitMs: number;
  p99Ms: number;
  failures: string[];
  notes: string[];
  seconds: number;
}

/** The simulator's item drift on fields the daemon does not diff, plus `progress` as a number. */
const LOOSE_TYPES = ['progressNumber', 'nullMedia', 'fractionalCredits'] as const;

const API_TOKEN = 'chaos-api-token-0123456789abcdef';

/** Short retry schedule: a receiver down for "minutes" is down for seconds here, and ~80 s of attempts cover it. */
export const CHAOS_RETRY_SCHEDULE = [0.5, 1, ...Array<number>(40).fill(2)];

export async function runScenario(spec: ScenarioSpec, sizes: Sizes, seed: number): Promise<ScenarioResult> {
  const began = Date.now();
  const dir = await mkdtemp(join(tmpdir(), `chaos-${spec.name.replace(/\W+/g, "-")}-`));
  const forgetDir = removeOnExit(dir);
  const redis = new ChaosRedis(dir);
  const simulator = new CreatifySimulator({ seed });
  const endpoints = ['alpha', 'beta'].map((name) => new ChaosEndpoint(name, generateSecret()));
  let upstream: Upstream | null = null;
  const replicas: Replica[] = [];
  let driver: NodeJS.Timeout | undefined;
  try {
    await redis.start();
    const simUrl = await simulator.start();
    upstream = new Upstream({ target: simUrl, seed: seed + 1, faultRate: spec.faultRate });
    const upstreamUrl = await upstream.start();
    const urls = await Promise.all(endpoints.map((e) => e.start()));
    const configPath = join(dir, 'config.json');
    await writeFile(
      configPath,
      JSON.stringify({
        creatify: { baseUrl: upstreamUrl, maxRequestsPerSecond: 50, timeoutMs: 5000 },
        redis: { url: redis.url, prefix: 'chaos', partitions: sizes.partitions },
        poll: { intervalMs: sizes.intervalMs },
        webhooks: endpoints.map((e, i) => ({ name: e.name, url: urls[i], secret: e.secret, retryScheduleSeconds: CHAOS_RETRY_SCHEDULE })),
        http: { host: '127.0.0.1', apiToken: API_TOKEN },
        log: { level: 'warn', pretty: false },
      }),
    );
    for (let i = 0; i < spec.replicas; i++) {
      replicas.push(new Replica({ name: `r${i}`, logDir: dir, env: { LIPSYNC_SYNC_CONFIG: configPath, CREATIFY_API_ID: `r${i}`, CREATIFY_API_KEY: 'chaos-key' } }));
    }
    await Promise.all(replicas.map((r) => r.start()));

    const rng = createRng(seed + 2);
    const startedAt = Date.now();
    const script = buildScript({ seed, count: sizes.lipsyncs, startMs: startedAt, holdMs: spec.holdMs, spreadMs: spec.spreadMs ?? Math.min(spec.holdMs, 5000), short: sizes.short, requeueRate: spec.requeueRate });
    for (const lipsync of script) {
      apply(simulator, lipsync.id, lipsync.steps[0] as ScriptedStep);
      if (rng() < spec.looseTypeRate) simulator.forceFault(lipsync.id, pick(rng, LOOSE_TYPES));
    }
    await track(replicas[0] as Replica, script.map((l) => l.id));
    const trackedAt = Date.now();
    driver = startDriver(simulator, script);

    const ctx: RunContext = { sizes, rng, redis, replicas, upstream, endpoints, startedAt, notes: [], disruptions: [] };
    const lastFinal = Math.max(...script.map(terminalAt));
    const failures = spec.disrupt ? await spec.disrupt(ctx, lastFinal) : [];
    const expected = new Map<string, ExpectedEvent[]>(script.map((l) => [l.id, expectedEvents(l)]));
    const settle = (): DeliveryVerdict => mergeVerdicts(endpoints.map((e) => judgeEndpoint(expected, e.deliveries, e.name)));
    await waitFor(() => Date.now() >= lastFinal && settle().lost === 0, Math.max(0, lastFinal - Date.now()) + spec.drainMs, 500);
    // Late duplicates and stragglers get a moment to show up before the verdict.
    await sleep(Math.max(1000, 2 * sizes.intervalMs));
    const end = Date.now();
    if (spec.inspect) failures.push(...(await spec.inspect(ctx)));
    for (const r of replicas) if (r.crashed !== null) failures.push(`replica ${r.name} ${r.crashed} (log ${r.logFile})`);

    const verdict = settle();
    const windows = new Map<string, PollWindow>(script.map((l) => [l.id, { from: trackedAt, terminalAt: terminalAt(l) }]));
    const gap = longestPollGap(upstream.log, windows, end);
    const p99 = percentile([...verdict.finalLatenciesMs].sort((a, b) => a - b), 99);
    if (verdict.lost > 0) failures.push(`${verdict.lost} expected event(s) never delivered`);
    if (verdict.duplicatesWithNewId > 0) failures.push(`${verdict.duplicatesWithNewId} change(s) delivered again under a different webhook-id`);
    if (verdict.unexpected > 0) failures.push(`${verdict.unexpected} unexpected event(s) not in the script (a backwards change, or steps merged because polls were missed)`);
    if (verdict.outOfOrder > 0) failures.push(`${verdict.outOfOrder} event(s) out of order for their lipsync`);
    if (verdict.badSignatures > 0) failures.push(`${verdict.badSignatures} delivery(ies) with a bad signature`);
    if (gap.maxGapMs > spec.gapLimitMs) {
      const from = gap.worst?.from ?? startedAt;
      // What happened shortly before and during the gap: a kill, a restart, an outage.
      const during = ctx.disruptions.filter((d) => d.at >= from - spec.gapLimitMs && d.at <= from + gap.maxGapMs).map((d) => `${d.what} at +${seconds(d.at - startedAt)}`);
      failures.push(`longest poll gap ${seconds(gap.maxGapMs)} > ${seconds(spec.gapLimitMs)} (id ${gap.worst?.id}, from +${seconds(from - startedAt)}; around it: ${during.join(', ') || 'no disruption'})`);
    }
    return { name: spec.name, verdict, maxGapMs: gap.maxGapMs, gapLimitMs: spec.gapLimitMs, p99Ms: p99, failures, notes: ctx.notes, seconds: (Date.now() - began) / 1000 };
  } finally {
    clearInterval(driver);
    await Promise.allSettled(replicas.map((r) => r.stop()));
    await Promise.allSettled([upstream?.stop(), simulator.stop(), ...endpoints.map((e) => e.stop()), redis.stop()]);
    if (process.env['CHAOS_KEEP'] === undefined) await rm(dir, { recursive: true, force: true });
    else console.error(`chaos: ${spec.name} logs kept in ${dir}`);
    forgetDir();
  }
}

export function seconds(ms: number): string {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '–';
}

function apply(simulator: CreatifySimulator, id: string, step: ScriptedStep): void {
  const done = step.status === 'done';
  simulator.set(id, {
    status: step.status,
    progress: step.progress,
    failed_reason: step.failed_reason,
    ...(done ? { output: `https://sim.creatify.local/lipsyncs/${id}/output.mp4`, preview: `https://sim.creatify.local/lipsyncs/${id}/preview.mp4`, credits_used: 2 } : {}),
  });
}

/** Moves each lipsync to the step its script says is current, every 50 ms; stops itself when all are final. */
function startDriver(simulator: CreatifySimulator, script: readonly ScriptedLipsync[]): NodeJS.Timeout {
  const shown = new Map<string, number>(script.map((l) => [l.id, 0]));
  const timer = setInterval(() => {
    const now = Date.now();
    let moving = 0;
    for (const lipsync of script) {
      const { index, step } = stepAt(lipsync, now);
      if (index !== shown.get(lipsync.id)) {
        apply(simulator, lipsync.id, step);
        shown.set(lipsync.id, index);
      }
      if (index < lipsync.steps.length - 1) moving++;
    }
    if (moving === 0) clearInterval(timer);
  }, 50);
  return timer;
}

async function track(replica: Replica, ids: string[]): Promise<void> {
  const res = await fetch(`${replica.httpUrl}/v1/lipsyncs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ids }),
    signal: AbortSignal.timeout(10_000),
  });
  const answer = (await res.json()) as { accepted?: string[] };
  if (res.status !== 200 || answer.accepted?.length !== ids.length) throw new Error(`tracking ${ids.length} ids answered ${res.status}: ${JSON.stringify(answer).slice(0, 200)}`);
}

/** Sum of a counter over every replica's /metrics (each process counts only what it did). */
export async function scrapeSum(replicas: readonly Replica[], metric: string, labels: Record<string, string> = {}): Promise<number> {
  let total = 0;
  for (const r of replicas.filter((x) => x.alive)) {
    const res = await fetch(`${r.httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    total += valueOf(parseExposition(await res.text()), metric, labels) ?? 0;
  }
  return total;
}

