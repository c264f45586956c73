/**
 * The four chaos scenarios of issue 9 and their disruptions: replica kills (some mid-request), upstream
 * drift, a Redis restart, and a webhook endpoint down for a long while.
 * Invariant: each disruption is bounded in count and time and seeded, so a failing run can be replayed.
 */
import { pick } from '../../src/simulator/timeline.js';
import { FAULT_KINDS, type FaultKind } from './faults.js';
import { sleep, waitFor } from '../../bench/stats.js';
import { httpStatus, type Replica } from './processes.js';
import { scrapeSum, seconds, type RunContext, type ScenarioSpec, type Sizes } from './run.js';

async function sleepUntil(at: number): Promise<void> {
  await sleep(Math.max(0, at - Date.now()));
}

/** issue 9: with ≥ 2 replicas, a kill delays the next poll of any id by at most max(2 × interval, 10 s). */
export function crashBoundMs(intervalMs: number): number {
  return Math.max(2 * intervalMs, 10_000);
}

/**
 * Kills at seeded moments at least `spacingMs` apart: the crash bound is per kill, and a second kill inside the
 * first one's recovery (e.g. of the request that recovers) would add the two delays up.
 */
function kills(randomKills: number, inFlightKills: number, spacingMs: number) {
  return async (ctx: RunContext, until: number): Promise<string[]> => {
    const total = randomKills + inFlightKills;
    const from = ctx.startedAt + 2000;
    const span = Math.max(1000, until - 2000 - from);
    const slack = Math.max(0, span - (total - 1) * spacingMs);
    const offsets = Array.from({ length: total }, () => ctx.rng() * slack).sort((a, b) => a - b);
    const times = offsets.map((offset, i) => from + offset + i * spacingMs);
    const inFlight = new Set<number>();
    while (inFlight.size < inFlightKills) inFlight.add(Math.floor(ctx.rng() * total));
    const failures: string[] = [];
    let done = 0;
    let doneInFlight = 0;
    for (const [i, at] of times.entries()) {
      await sleepUntil(at);
      let victim: Replica | undefined;
      if (inFlight.has(i)) {
        ctx.upstream.holdNextRequest(async (name) => {
          victim = ctx.replicas.find((r) => r.name === name);
          ctx.disruptions.push({ at: Date.now(), what: `SIGKILL ${name} mid-request` });
          await victim?.kill();
        });
        const fired = await waitFor(() => !ctx.upstream.holding, 10_000, 5);
        if (!fired) {
          ctx.upstream.holdNextRequest(async () => undefined);
          failures.push(`in-flight kill ${i} found no list request within 10 s`);
          continue;
        }
        if (victim !== undefined) doneInFlight++;
      } else {
        victim = pick(ctx.rng, ctx.replicas.filter((r) => r.alive));
        ctx.disruptions.push({ at: Date.now(), what: `SIGKILL ${victim.name}` });
        await victim.kill();
      }
      if (victim === undefined) continue;
      done++;
      await victim.start();
      ctx.disruptions.push({ at: Date.now(), what: `${victim.name} up again` });
    }
    ctx.notes.push(`${done} SIGKILLs (${doneInFlight} with a list request in flight) over ${seconds(span)}`);
    if (done !== total) failures.push(`only ${done} of ${total} planned kills happened`);
    return failures;
  };
}

function redisRestart(outageMs: number, intervalMs: number) {
  return async (ctx: RunContext, until: number): Promise<string[]> => {
    await sleepUntil(ctx.startedAt + 0.4 * (until - ctx.startedAt));
    const probe = ctx.replicas[0] as Replica;
    const readiness: Array<{ at: number; status: number }> = [];
    let probing = true;
    const prober = (async () => {
      for (let n = 0; probing && n < 1000; n++) {
        readiness.push({ at: Date.now(), status: await httpStatus(`${probe.httpUrl}/readyz`) });
        await sleep(200);
      }
    })();
    await ctx.redis.kill();
    const downAt = Date.now();
    ctx.disruptions.push({ at: downAt, what: 'Redis SIGKILL' });
    await sleep(outageMs);
    await ctx.redis.start();
    const backAt = Date.now();
    ctx.disruptions.push({ at: backAt, what: 'Redis back' });
    await waitFor(() => readiness.some((r) => r.at > backAt && r.status === 200), 30_000, 100);
    probing = false;
    await prober;
    const failures: string[] = [];
    const notReady = readiness.filter((r) => r.at >= downAt && r.status === 503);
    const readyAgain = readiness.find((r) => r.at > backAt && r.status === 200);
    if (notReady.length === 0) failures.push('readiness never answered 503 while Redis was down');
    if (readyAgain === undefined) failures.push('readiness did not return to 200 within 30 s of Redis coming back');
    const resumed = await waitFor(() => ctx.upstream.log.some((p) => p.at >= backAt && p.answered.length > 0), 30_000, 50);
    const firstPoll = ctx.upstream.log.find((p) => p.at >= backAt && p.answered.length > 0);
    const resumeMs = firstPoll === undefined ? Number.POSITIVE_INFINITY : firstPoll.at - backAt;
    if (!resumed || resumeMs > 2 * intervalMs) failures.push(`polling resumed ${seconds(resumeMs)} after Redis was back (limit 2 intervals = ${seconds(2 * intervalMs)})`);
    ctx.notes.push(`Redis down ${seconds(backAt - downAt)}; readiness 503 ×${notReady.length}, 200 again after ${readyAgain ? seconds(readyAgain.at - backAt) : 'never'}; polling resumed after ${seconds(resumeMs)}`);
    return failures;
  };
}

function endpointDown(downMs: number) {
  return async (ctx: RunContext): Promise<string[]> => {
    const endpoint = ctx.endpoints[1];
    if (endpoint === undefined) return ['no second endpoint to take down'];
    await sleepUntil(ctx.startedAt + 3000);
    endpoint.down = true;
    await sleep(downMs);
    endpoint.down = false;
    ctx.notes.push(`endpoint ${endpoint.name} down ${seconds(downMs)}, refused ${endpoint.refused} request(s)`);
    return endpoint.refused === 0 ? [`endpoint ${endpoint.name} was down but no delivery was attempted meanwhile`] : [];
  };
}

/** Where each injected oddity must show up in the replicas' metrics. */
const ODDITY_METRICS: Record<FaultKind, { metric: string; labels?: Record<string, string> }> = {
  truncated_json: { metric: 'lipsync_sync_polls_total', labels: { outcome: 'error' } },
  html_502: { metric: 'lipsync_sync_creatify_requests_total', labels: { code: '502' } },
  rate_limited_retry_after: { metric: 'lipsync_sync_creatify_requests_total', labels: { code: '429' } },
  rate_limited_bare: { metric: 'lipsync_sync_creatify_requests_total', labels: { code: '429' } },
  empty_array: { metric: 'lipsync_sync_missing_total' },
  duplicated_item: { metric: 'lipsync_sync_answer_oddities_total', labels: { kind: 'duplicated' } },
  unasked_id: { metric: 'lipsync_sync_answer_oddities_total', labels: { kind: 'unexpected' } },
  stale_item: { metric: 'lipsync_sync_answer_oddities_total', labels: { kind: 'stale' } },
  item_without_status: { metric: 'lipsync_sync_unreadable_items_total' },
};

async function odditiesCounted(ctx: RunContext): Promise<string[]> {
  const failures: string[] = [];
  const wanted = new Map<string, { injected: number; metric: string; labels: Record<string, string>; kinds: FaultKind[] }>();
  for (const kind of FAULT_KINDS) {
    const injected = ctx.upstream.injected.get(kind) ?? 0;
    const { metric, labels = {} } = ODDITY_METRICS[kind];
    const key = `${metric}${JSON.stringify(labels)}`;
    const entry = wanted.get(key) ?? { injected: 0, metric, labels, kinds: [] };
    entry.injected += injected;
    entry.kinds.push(kind);
    wanted.set(key, entry);
  }
  const parts: string[] = [];
  for (const { injected, metric, labels, kinds } of wanted.values()) {
    const counted = await scrapeSum(ctx.replicas, metric, labels);
    const label = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
    parts.push(`${kinds.join('+')} ${injected}→${counted}`);
    if (injected > 0 && counted < injected) failures.push(`${kinds.join(' + ')}: injected ${injected}, ${metric}{${label}} counted ${counted}`);
  }
  ctx.notes.push(`oddities injected→counted: ${parts.join(', ')}`);
  return failures;
}

export function scenarios(sizes: Sizes): ScenarioSpec[] {
  const bound = crashBoundMs(sizes.intervalMs);
  const receiverDownMs = sizes.short ? 15_000 : 60_000;
  const outageMs = 3000;
  return [
    {
      name: 'replica kills',
      replicas: sizes.short ? 2 : 3,
      // Each step outlasts the crash bound, so a daemon that keeps it sees every step; the spread keeps ids
      // moving long enough for every kill to land its crash-bound spacing after the previous one.
      holdMs: bound + 2000,
      spreadMs: sizes.short ? 10_000 : 100_000,
      requeueRate: 0,
      faultRate: 0,
      looseTypeRate: 0,
      drainMs: 30_000,
      gapLimitMs: bound,
      disrupt: sizes.short ? kills(3, 2, bound) : kills(20, 5, bound),
    },
    {
      name: 'upstream drift',
      replicas: 2,
      holdMs: sizes.short ? 6000 : 8000,
      requeueRate: sizes.short ? 0.25 : 0.1,
      faultRate: 0.25,
      looseTypeRate: 0.1,
      drainMs: 30_000,
      gapLimitMs: bound,
      inspect: odditiesCounted,
    },
    {
      name: 'redis restart',
      replicas: 2,
      holdMs: sizes.short ? 6000 : 8000,
      requeueRate: 0,
      faultRate: 0,
      looseTypeRate: 0,
      drainMs: 30_000,
      gapLimitMs: bound + outageMs,
      disrupt: redisRestart(outageMs, sizes.intervalMs),
    },
    {
      name: 'endpoint down',
      replicas: 2,
      holdMs: 4000,
      requeueRate: 0,
      faultRate: 0,
      looseTypeRate: 0,
      drainMs: receiverDownMs + 60_000,
      gapLimitMs: bound,
      disrupt: endpointDown(receiverDownMs),
    },
  ];
}
