/**
 * Gathers what the status page shows (`statusPageData`), from Redis and this process's counters, as one typed
 * object. Invariant: nothing here reads a field of the stored Creatify object (`state:{id}` field `lipsync`) or a
 * webhook URL: only ids, status labels, counts, times and failure reasons, so the page may stay open like /metrics.
 * Each section is read on its own: a source that is not wired, or fails, makes only its section `null`
 * ("not available"); an empty list means there is none.
 */
import type { Redis } from 'ioredis';
import type { Counter } from 'prom-client';
import type { Logger } from '../logger.js';
import type { Keys } from '../store/keys.js';
import { recentTransitions, type RecentTransition } from '../store/recent.js';
import type { LipsyncStore } from '../store/partitioned-store.js';
import { lastSuccessfulPoll } from '../sync/cycle.js';
import type { BreakerState } from '../webhooks/breaker.js';
import type { WebhookSnapshot } from '../webhooks/pipeline.js';
import type { DisabledEndpoint } from '../webhooks/dead-letters.js';
import { sum } from '../shared/counts.js';

/** Rows shown of lists that can be long. */
export const PAGE_ROWS = 50;

export interface CycleHealth {
  /** ms of the last successful poll (any replica); null before the first. */
  lastPollAt: number | null;
  /** ms the current (or last) cycle started; null before the first cycle. */
  cycleStartedAt: number | null;
  /** Seconds the last finished cycle took (start to its last batch's poll); null while one runs or none ran. */
  lastCycleSeconds: number | null;
  /** Batches of the current cycle still outstanding. */
  outstandingBatches: number;
  /** Creatify requests (100-id batches) per cycle: ceil(pending / batchSize). */
  requestsPerCycle: number;
  /** ids, events and failed batches counted so far in the current (or last) cycle. */
  cycleIds: number;
  cycleEvents: number;
  cycleFailedBatches: number;
  /** Seconds one full cycle needs at the API bound: requestsPerCycle / creatify.maxRequestsPerSecond. */
  boundSeconds: number;
  intervalSeconds: number;
  maxRequestsPerSecond: number;
}

export interface StalledRow {
  id: string;
  status: string;
  /** ms since the id stalled. */
  since: number;
}

export interface EndpointRow {
  name: string;
  /** null when breaker state is not available. */
  breaker: BreakerState | null;
  deadLetters: number;
  /** Deliveries waiting in the endpoint's FIFOs. */
  queued: number;
  /** Why the endpoint was disabled, when it is. */
  disabled: string | null;
}

export interface StatusPageData {
  /** ms when gathered. */
  now: number;
  version: string;
  /** Pending lipsyncs by status label, largest first. */
  counts: Array<{ status: string; count: number }>;
  cycle: CycleHealth | null;
  recent: RecentTransition[] | null;
  /** `failures_total` by reason class since this replica started. */
  failures: Array<{ reasonClass: string; count: number }> | null;
  stalled: StalledRow[] | null;
  endpoints: EndpointRow[] | null;
}

export interface StatusSources {
  redis: Redis;
  /** The keys of every partition (one unless `redis.partitions` > 1). */
  partitions: readonly Keys[];
  store: LipsyncStore;
  version: string;
  logger: Logger;
  poll: { intervalMs: number; batchSize: number; maxRequestsPerSecond: number };
  /** `failures_total{reason_class}` of this process. */
  failures?: Counter<'reason_class'>;
  /** Webhook endpoints: configured names, their shared state, and disabled ones. */
  webhooks?: { names: readonly string[]; snapshot(): Promise<WebhookSnapshot>; disabled(): Promise<Record<string, DisabledEndpoint>> };
  now?: () => number;
}

export async function statusPageData(sources: StatusSources): Promise<StatusPageData> {
  const now = sources.now?.() ?? Date.now();
  const section = async <T>(name: string, read: (() => Promise<T>) | undefined): Promise<T | null> => {
    if (read === undefined) return null;
    try {
      return await read();
    } catch (err) {
      sources.logger.warn({ err, section: name }, 'status page section could not be read');
      return null;
    }
  };
  const { failures: readFailures, webhooks } = sources;
  const [counts, cycle, recent, failures, stalled, endpoints] = await Promise.all([
    sources.store.statusCounts(),
    section('cycle', () => cycleHealth(sources)),
    section('recent', async () => newestFirst((await Promise.all(sources.partitions.map((keys) => recentTransitions(sources.redis, keys, PAGE_ROWS)))).flat(), PAGE_ROWS)),
    section('failures', readFailures && (async () => sortedCounts(await byReasonClass(readFailures)).map(([reasonClass, count]) => ({ reasonClass, count })))),
    section('stalled', async () => (await sources.store.stalled(PAGE_ROWS)).map((s) => ({ id: s.id, status: s.status, since: Date.parse(s.since) }))),
    section('endpoints', webhooks && (() => endpointRows(webhooks))),
  ]);
  return {
    now,
    version: sources.version,
    counts: sortedCounts(counts).map(([status, count]) => ({ status, count })),
    cycle,
    recent,
    failures,
    stalled,
    endpoints,
  };
}

/**
 * One cycle view over every partition: each runs its own cycle, paced by the one shared request rate, so the
 * whole is as old as its oldest poll, as long as its longest cycle, and costs the sum of their requests.
 */
async function cycleHealth(sources: StatusSources): Promise<CycleHealth> {
  const { redis, poll } = sources;
  const parts = await Promise.all(sources.partitions.map((keys) => partitionCycle(redis, keys)));
  const pendings = await Promise.all(sources.partitions.length === 1 ? [sources.store.pendingCount()] : sources.partitions.map((keys) => redis.zcard(keys.pending)));
  const requestsPerCycle = pendings.reduce((n, pending) => n + Math.ceil(pending / poll.batchSize), 0);
  const all = <K extends keyof PartitionCycle>(key: K): Array<NonNullable<PartitionCycle[K]>> => parts.flatMap((part) => (part[key] === null ? [] : [part[key] as NonNullable<PartitionCycle[K]>]));
  const lasts = all('lastPollAt');
  const starts = all('cycleStartedAt');
  const durations = all('lastCycleSeconds');
  return {
    lastPollAt: lasts.length < parts.length ? null : Math.min(...lasts),
    cycleStartedAt: starts.length === 0 ? null : Math.min(...starts),
    lastCycleSeconds: durations.length < parts.length ? null : Math.max(...durations),
    outstandingBatches: sum(all('outstandingBatches')),
    requestsPerCycle,
    cycleIds: sum(all('cycleIds')),
    cycleEvents: sum(all('cycleEvents')),
    cycleFailedBatches: sum(all('cycleFailedBatches')),
    boundSeconds: requestsPerCycle / poll.maxRequestsPerSecond,
    intervalSeconds: poll.intervalMs / 1000,
    maxRequestsPerSecond: poll.maxRequestsPerSecond,
  };
}

type PartitionCycle = Pick<CycleHealth, 'lastPollAt' | 'cycleStartedAt' | 'lastCycleSeconds' | 'outstandingBatches' | 'cycleIds' | 'cycleEvents' | 'cycleFailedBatches'>;

async function partitionCycle(redis: Redis, keys: Keys): Promise<PartitionCycle> {
  const [last, meta, outstanding] = await Promise.all([
    lastSuccessfulPoll(redis, keys),
    // Read-only view of the fields startCycle.lua and finishBatch.lua write (src/sync/cycle.ts META).
    redis.hmget(keys.meta, 'cycle_started_at', 'cycle_batch_count', 'cycle_ids', 'cycle_events', 'cycle_failed_batches'),
    redis.scard(keys.cycleBatches),
  ]);
  const [startedRaw, , ids, events, failed] = meta;
  const cycleStartedAt = startedRaw === null ? null : Number(startedRaw);
  // Each batch marks the poll succeeded as it finishes, so the last mark of a finished cycle is its end.
  const lastCycleSeconds = cycleStartedAt !== null && outstanding === 0 && last !== null && last >= cycleStartedAt ? (last - cycleStartedAt) / 1000 : null;
  return { lastPollAt: last, cycleStartedAt, lastCycleSeconds, outstandingBatches: outstanding, cycleIds: Number(ids ?? 0), cycleEvents: Number(events ?? 0), cycleFailedBatches: Number(failed ?? 0) };
}


function newestFirst(transitions: RecentTransition[], limit: number): RecentTransition[] {
  return transitions.sort((a, b) => b.at - a.at).slice(0, limit);
}

async function endpointRows(webhooks: NonNullable<StatusSources['webhooks']>): Promise<EndpointRow[]> {
  const [snapshot, disabled] = await Promise.all([webhooks.snapshot(), webhooks.disabled()]);
  // Configured endpoints first, then any that only left dead letters behind (removed from config).
  const names = [...new Set([...webhooks.names, ...Object.keys(snapshot.deadLetters)])];
  return names.map((name) => ({
    name,
    breaker: snapshot.endpointStates[name] ?? null,
    deadLetters: snapshot.deadLetters[name] ?? 0,
    queued: snapshot.queued[name] ?? 0,
    disabled: disabled[name]?.reason ?? null,
  }));
}

async function byReasonClass(counter: Counter<'reason_class'>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const { labels, value } of (await counter.get()).values) {
    const name = String(labels.reason_class ?? 'unknown');
    out[name] = (out[name] ?? 0) + value;
  }
  return out;
}

/** Non-zero entries, largest first, then by name. */
function sortedCounts(counts: Record<string, number>): Array<[string, number]> {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
}
