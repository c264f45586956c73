/**
 * Every Prometheus metric of SPEC "Metrics", on one registry. Counters and histograms are per replica; the gauges
 * describing shared state are read from Redis at scrape time through `snapshot`, so every replica reports the
 * same values and none goes stale when another replica did the work.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { EVENT_TYPES } from '../events/types.js';
import { withTimeout } from '../shared/timeout.js';
import { DEFAULT_FAILURE_CLASSES, failureClassNames } from './failure-class.js';

export const METRIC_PREFIX = 'lipsync_sync_';

export const POLL_OUTCOMES = ['ok', 'error', 'rate_limited'] as const;
export type PollOutcome = (typeof POLL_OUTCOMES)[number];

export const WEBHOOK_OUTCOMES = ['delivered', 'retry', 'gone', 'dead_lettered'] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

/** Seconds. The edges sit on the timeouts that matter: Creatify 10 s, webhooks 15 s, the 15 s poll interval. */
export const POLL_CYCLE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120];
export const CREATIFY_REQUEST_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
export const WEBHOOK_DELIVERY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30];

/** Shared state read from Redis once per scrape. */
export interface MetricsSnapshot {
  /** Tracked lipsyncs per last seen status (keys are normalised with statusLabel). */
  trackedByStatus: Record<string, number>;
  /** Dead-lettered deliveries per webhook endpoint name. */
  deadLettersByEndpoint: Record<string, number>;
  /** BullMQ job counts, e.g. `{ queue: 'lsync-webhooks', state: 'waiting', count: 3 }`. */
  queueJobs: Array<{ queue: string; state: string; count: number }>;
  /** Unix seconds of the last poll cycle that succeeded on any replica; null before the first one. */
  lastSuccessfulPollSeconds: number | null;
}

export interface MetricsOptions {
  /** Default: a new private Registry (not prom-client's global one). */
  registry?: Registry;
  /** prom-client's process/Node.js metrics, prefixed `lipsync_sync_`. Default true. */
  collectDefaults?: boolean;
  /** Called once per scrape; without it the snapshot gauges have no series. */
  snapshot?: () => Promise<MetricsSnapshot>;
  /** A snapshot slower than this counts as failed, so a hung Redis cannot hang /metrics. Default 2000 ms. */
  snapshotTimeoutMs?: number;
  /** Told about each failed snapshot (for logging); the scrape goes on without the snapshot gauges. */
  onSnapshotError?: (err: unknown) => void;
  /** `failures_total` classes created at 0. Default: the classes of DEFAULT_FAILURE_CLASSES, `other`, `unknown`. */
  failureClasses?: readonly string[];
  /**
   * Configured webhook endpoint names: their delivery counters start at 0, and their dead-letter gauge reads 0
   * when the snapshot omits them, so the first dead letter is an increase the alert can see.
   */
  webhookEndpoints?: readonly string[];
}

export interface Metrics {
  registry: Registry;
  /** `polls_total{outcome}`: one per poll batch (see PollOutcome). */
  polls: Counter<'outcome'>;
  /** `poll_cycle_duration_seconds`. */
  pollCycleDuration: Histogram<string>;
  /** `creatify_requests_total{code}`: the HTTP status as a string, or `network` / `timeout`. */
  creatifyRequests: Counter<'code'>;
  /** `creatify_request_duration_seconds`. */
  creatifyRequestDuration: Histogram<string>;
  /** `transitions_total{from,to}`: values through statusLabel, `from` is `none` at first sighting. */
  transitions: Counter<'from' | 'to'>;
  /** `events_total{type}`: one per change event recorded. */
  events: Counter<'type'>;
  /** `failures_total{reason_class}`: the class from classifyFailure. */
  failures: Counter<'reason_class'>;
  /** `webhook_deliveries_total{endpoint,outcome}`: endpoint is the configured name, never the URL. */
  webhookDeliveries: Counter<'endpoint' | 'outcome'>;
  /** `webhook_delivery_duration_seconds{endpoint}`. */
  webhookDeliveryDuration: Histogram<'endpoint'>;
  /** `malformed_items_total`: list items that failed validation. */
  malformedItems: Counter<string>;
  /** `missing_total`: IDs asked for and absent from Creatify's answer, one per ID per cycle. */
  missing: Counter<string>;
  /** `snapshot_errors_total`: scrapes that could not read the snapshot. */
  snapshotErrors: Counter<string>;
  /** Scrape-time gauges, filled from the snapshot; setting them directly is overwritten at the next scrape. */
  trackedLipsyncs: Gauge<'status'>;
  webhookDeadLetters: Gauge<'endpoint'>;
  queueJobs: Gauge<'queue' | 'state'>;
  lastSuccessfulPoll: Gauge<string>;
}

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** The Prometheus exposition text of a registry, with the content type to serve it under. */
export async function metricsText(registry: Registry): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/** A status as a label value: trimmed and lower-cased (SPEC compares statuses that way), `none` when absent. */
export function statusLabel(status: string | null | undefined): string {
  const normalised = status?.trim().toLowerCase();
  return normalised ? normalised : 'none';
}

const DEFAULT_SNAPSHOT_TIMEOUT_MS = 2000;

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = options.registry ?? new Registry();
  const registers = [registry];
  const webhookEndpoints = options.webhookEndpoints ?? [];
  const name = (suffix: string): string => `${METRIC_PREFIX}${suffix}`;

  if (options.collectDefaults ?? true) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });

  const readSnapshot = sharedPerScrape(
    options.snapshot,
    options.snapshotTimeoutMs ?? DEFAULT_SNAPSHOT_TIMEOUT_MS,
    (err) => {
      snapshotErrors.inc();
      options.onSnapshotError?.(err);
    },
  );

  const snapshotErrors = new Counter({
    name: name('snapshot_errors_total'),
    help: 'Scrapes whose Redis snapshot failed or timed out; the snapshot gauges were left out of those scrapes.',
    registers,
    // Waits for this scrape's snapshot so a failure is counted in the same scrape that lacks the gauges.
    async collect() {
      await readSnapshot();
    },
  });

  const polls = new Counter({
    name: name('polls_total'),
    help: 'Poll batches against Creatify by outcome (ok, error, rate_limited).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const pollCycleDuration = new Histogram({
    name: name('poll_cycle_duration_seconds'),
    help: 'Wall time of one poll cycle over the pending set, in seconds.',
    buckets: POLL_CYCLE_BUCKETS,
    registers,
  });
  const creatifyRequests = new Counter({
    name: name('creatify_requests_total'),
    help: 'Requests to the Creatify API by HTTP status code, or network / timeout.',
    labelNames: ['code'] as const,
    registers,
  });
  const creatifyRequestDuration = new Histogram({
    name: name('creatify_request_duration_seconds'),
    help: 'Duration of Creatify API requests, in seconds.',
    buckets: CREATIFY_REQUEST_BUCKETS,
    registers,
  });
  const transitions = new Counter({
    name: name('transitions_total'),
    help: 'Lipsync status transitions (lower-cased statuses; from="none" at first sighting).',
    labelNames: ['from', 'to'] as const,
    registers,
  });
  const events = new Counter({
    name: name('events_total'),
    help: 'Change events recorded, by event type.',
    labelNames: ['type'] as const,
    registers,
  });
  const failures = new Counter({
    name: name('failures_total'),
    help: 'Lipsyncs that failed, by class of failed_reason.',
    labelNames: ['reason_class'] as const,
    registers,
  });
  const webhookDeliveries = new Counter({
    name: name('webhook_deliveries_total'),
    help: 'Webhook delivery attempts by endpoint and outcome (delivered, retry, gone, dead_lettered).',
    labelNames: ['endpoint', 'outcome'] as const,
    registers,
  });
  const webhookDeliveryDuration = new Histogram({
    name: name('webhook_delivery_duration_seconds'),
    help: 'Duration of webhook delivery attempts, in seconds.',
    labelNames: ['endpoint'] as const,
    buckets: WEBHOOK_DELIVERY_BUCKETS,
    registers,
  });
  const malformedItems = new Counter({
    name: name('malformed_items_total'),
    help: 'Items of a Creatify list answer that failed validation and were skipped.',
    registers,
  });
  const missing = new Counter({
    name: name('missing_total'),
    help: 'Tracked IDs absent from the Creatify answer that asked for them, counted per poll.',
    registers,
  });

  const trackedLipsyncs = new Gauge({
    name: name('tracked_lipsyncs'),
    help: 'Tracked lipsyncs by last seen status (from Redis at scrape time).',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      const snapshot = await readSnapshot();
      this.reset();
      // inc, not set: two raw statuses may normalise to one label ("Done", "done").
      for (const [status, count] of Object.entries(snapshot?.trackedByStatus ?? {})) this.inc({ status: statusLabel(status) }, count);
    },
  });
  const webhookDeadLetters = new Gauge({
    name: name('webhook_dead_letters'),
    help: 'Dead-lettered webhook deliveries waiting for replay, by endpoint (from Redis at scrape time).',
    labelNames: ['endpoint'] as const,
    registers,
    async collect() {
      const snapshot = await readSnapshot();
      this.reset();
      if (!snapshot) return;
      for (const endpoint of webhookEndpoints) this.set({ endpoint }, 0);
      for (const [endpoint, count] of Object.entries(snapshot.deadLettersByEndpoint)) this.set({ endpoint }, count);
    },
  });
  const queueJobs = new Gauge({
    name: name('queue_jobs'),
    help: 'BullMQ jobs by queue and state (from Redis at scrape time).',
    labelNames: ['queue', 'state'] as const,
    registers,
    async collect() {
      const snapshot = await readSnapshot();
      this.reset();
      for (const { queue, state, count } of snapshot?.queueJobs ?? []) this.inc({ queue, state }, count);
    },
  });
  const lastSuccessfulPoll = new Gauge({
    name: name('last_successful_poll_timestamp_seconds'),
    help: 'Unix time of the last successful poll cycle on any replica (from Redis at scrape time).',
    registers,
    async collect() {
      const seconds = (await readSnapshot())?.lastSuccessfulPollSeconds ?? null;
      // No series rather than 0 when unknown: 0 would read as "stalled since 1970"; the alert uses absent().
      if (seconds === null) this.remove({});
      else this.set(seconds);
    },
  });

  // Known label values start at 0 so increase()/rate() see the first occurrence, not only later ones.
  for (const outcome of POLL_OUTCOMES) polls.inc({ outcome }, 0);
  for (const type of EVENT_TYPES) events.inc({ type }, 0);
  for (const reasonClass of options.failureClasses ?? failureClassNames(DEFAULT_FAILURE_CLASSES)) {
    failures.inc({ reason_class: reasonClass }, 0);
  }
  for (const endpoint of webhookEndpoints) {
    for (const outcome of WEBHOOK_OUTCOMES) webhookDeliveries.inc({ endpoint, outcome }, 0);
  }

  return {
    registry,
    polls,
    pollCycleDuration,
    creatifyRequests,
    creatifyRequestDuration,
    transitions,
    events,
    failures,
    webhookDeliveries,
    webhookDeliveryDuration,
    malformedItems,
    missing,
    snapshotErrors,
    trackedLipsyncs,
    webhookDeadLetters,
    queueJobs,
    lastSuccessfulPoll,
  };
}

/**
 * One snapshot call per scrape: Registry.metrics() calls every collect() synchronously before awaiting any, so
 * the first caller starts the read and the others join it; the next scrape starts a fresh one. Never rejects.
 */
function sharedPerScrape(
  source: (() => Promise<MetricsSnapshot>) | undefined,
  timeoutMs: number,
  onError: (err: unknown) => void,
): () => Promise<MetricsSnapshot | null> {
  let inflight: Promise<MetricsSnapshot | null> | null = null;
  return () => {
    if (!source) return Promise.resolve(null);
    inflight ??= withTimeout(source, timeoutMs, 'no metrics snapshot')
      .catch((err: unknown) => {
        onError(err);
        return null;
      })
      .finally(() => {
        inflight = null;
      });
    return inflight;
  };
}
