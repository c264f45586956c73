/**
 * Every Prometheus metric of SPEC "Metrics", on one registry, each declared once: `Metrics` is the type of the
 * object `createMetrics` builds. Counters and histograms are per replica; the gauges describing shared state
 * are filled at scrape time (./scrape-gauges.ts). Known label values start at 0 so increase()/rate() see the
 * first occurrence, not only later ones.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { EVENT_TYPES } from '../events/types.js';
import { ANSWER_ODDITY_KINDS, POLL_OUTCOMES } from '../sync/observer.js';
import { DELIVERY_ATTEMPT_OUTCOMES } from '../webhooks/observer.js';
import { DEFAULT_FAILURE_CLASSES, failureClassNames } from './failure-class.js';
import { createScrapeGauges, type MetricsSnapshot } from './scrape-gauges.js';

export type { MetricsSnapshot } from './scrape-gauges.js';

export const METRIC_PREFIX = 'lipsync_sync_';

/** Seconds. The edges sit on the timeouts that matter: Creatify 10 s, webhooks 15 s, the 15 s poll interval. */
export const POLL_CYCLE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120];
export const CREATIFY_REQUEST_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
export const WEBHOOK_DELIVERY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30];

const DEFAULT_SNAPSHOT_TIMEOUT_MS = 2000;

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
  /** Configured terminal statuses: `tracked_lipsyncs` reports them (at 0 when none) beside the known ones. */
  terminalStatuses?: readonly string[];
}

export type Metrics = ReturnType<typeof createMetrics>;

/** The Prometheus exposition text of a registry, with the content type to serve it under. */
export async function metricsText(registry: Registry): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

export function createMetrics(options: MetricsOptions = {}) {
  const registry = options.registry ?? new Registry();
  const registers = [registry];
  const webhookEndpoints = options.webhookEndpoints ?? [];
  const name = (suffix: string): string => `${METRIC_PREFIX}${suffix}`;

  const counter = <L extends string = never>(suffix: string, help: string, labelNames: readonly L[] = []): Counter<L> =>
    new Counter({ name: name(suffix), help, labelNames, registers });
  const histogram = <L extends string = never>(suffix: string, help: string, buckets: number[], labelNames: readonly L[] = []): Histogram<L> =>
    new Histogram({ name: name(suffix), help, buckets, labelNames, registers });

  if (options.collectDefaults ?? true) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });

  const metrics = {
    registry,
    /** `polls_total{outcome}`: one per poll batch (see PollOutcome). */
    polls: counter('polls_total', 'Poll batches against Creatify by outcome (ok, error, rate_limited).', ['outcome']),
    /** `poll_cycle_duration_seconds`. */
    pollCycleDuration: histogram('poll_cycle_duration_seconds', 'Wall time of one poll cycle over the pending set, in seconds.', POLL_CYCLE_BUCKETS),
    /** `creatify_requests_total{code}`: the HTTP status as a string, or `network` / `timeout`. */
    creatifyRequests: counter('creatify_requests_total', 'Requests to the Creatify API by HTTP status code, or network / timeout.', ['code']),
    /** `creatify_request_duration_seconds`. */
    creatifyRequestDuration: histogram('creatify_request_duration_seconds', 'Duration of Creatify API requests, in seconds.', CREATIFY_REQUEST_BUCKETS),
    /** `creatify_oversized_responses_total`: answers refused for exceeding creatify.maxResponseBytes. */
    creatifyOversizedResponses: counter('creatify_oversized_responses_total', 'Creatify answers refused because they exceeded creatify.maxResponseBytes.'),
    /** `redis_up`: 1 while this replica's Redis connection is up, 0 during an outage. */
    redisUp: new Gauge({ name: name('redis_up'), help: 'Whether this replica is connected to Redis (1) or in an outage (0).', registers }),
    /** `creatify_up`: 0 while Creatify is unreachable, refuses the credentials or answers 5xx in a row. */
    creatifyUp: new Gauge({ name: name('creatify_up'), help: 'Whether Creatify answers this replica (0 while unreachable, refusing the API key, or answering 5xx repeatedly).', registers }),
    /** `redis_data_lost_total`: times this replica found Redis without the data set it was working on. */
    redisDataLost: counter('redis_data_lost_total', 'Times this replica found Redis had lost its data (epoch key missing or replaced): tracked ids and queued deliveries from before are gone.'),
    /** `transitions_total{from,to}`: status labels (shared statusLabel), `from` is `none` at first sighting. */
    transitions: counter('transitions_total', 'Lipsync status transitions (lower-cased statuses; from="none" at first sighting).', ['from', 'to']),
    /** `events_total{type}`: one per change event recorded. */
    events: counter('events_total', 'Change events recorded, by event type.', ['type']),
    /** `failures_total{reason_class}`: the class from classifyFailure. */
    failures: counter('failures_total', 'Lipsyncs that failed, by class of failed_reason.', ['reason_class']),
    /** `webhook_deliveries_total{endpoint,outcome}`: endpoint is the configured name, never the URL. */
    webhookDeliveries: counter('webhook_deliveries_total', 'Webhook delivery attempts by endpoint and outcome (delivered, retry, gone, dead_lettered).', ['endpoint', 'outcome']),
    /** `webhook_delivery_duration_seconds{endpoint}`. */
    webhookDeliveryDuration: histogram('webhook_delivery_duration_seconds', 'Duration of webhook delivery attempts, in seconds.', WEBHOOK_DELIVERY_BUCKETS, ['endpoint']),
    /** `webhook_dead_letters_dropped_total{endpoint}`: the oldest dead letters dropped by `delivery.maxDeadLetters`. */
    webhookDeadLettersDropped: counter('webhook_dead_letters_dropped_total', 'Dead letters dropped (oldest first) because an endpoint reached delivery.maxDeadLetters; the only place a delivery is dropped.', ['endpoint']),
    /** `malformed_items_total`: list items that failed validation. */
    malformedItems: counter('malformed_items_total', 'Items of a Creatify list answer that failed validation and were skipped.'),
    /** `missing_total`: IDs asked for and absent from Creatify's answer, one per ID per cycle. */
    missing: counter('missing_total', 'Tracked IDs absent from the Creatify answer that asked for them, counted per poll.'),
    /** `unreadable_items_total`: asked ids answered with an item the daemon cannot read, one per ID per cycle. */
    unreadableItems: counter('unreadable_items_total', 'Answered items whose id was readable but a field the daemon reads (status, progress, failed_reason) was not, counted per poll.'),
    /** `answer_oddities_total{kind}`: see ANSWER_ODDITY_KINDS. */
    answerOddities: counter('answer_oddities_total', 'Answer items ignored or skipped: unexpected (not asked for), duplicated (same id twice), stale (older than the stored state).', ['kind']),
    /** Scrape-time gauges, filled from the snapshot; setting them directly is overwritten at the next scrape. */
    ...createScrapeGauges({
      registers,
      name,
      snapshot: options.snapshot,
      snapshotTimeoutMs: options.snapshotTimeoutMs ?? DEFAULT_SNAPSHOT_TIMEOUT_MS,
      onSnapshotError: options.onSnapshotError,
      webhookEndpoints,
      terminalStatuses: options.terminalStatuses ?? [],
    }),
  };

  for (const outcome of POLL_OUTCOMES) metrics.polls.inc({ outcome }, 0);
  for (const kind of ANSWER_ODDITY_KINDS) metrics.answerOddities.inc({ kind }, 0);
  for (const type of EVENT_TYPES) metrics.events.inc({ type }, 0);
  for (const reasonClass of options.failureClasses ?? failureClassNames(DEFAULT_FAILURE_CLASSES)) {
    metrics.failures.inc({ reason_class: reasonClass }, 0);
  }
  for (const endpoint of webhookEndpoints) {
    for (const outcome of DELIVERY_ATTEMPT_OUTCOMES) metrics.webhookDeliveries.inc({ endpoint, outcome }, 0);
    metrics.webhookDeadLettersDropped.inc({ endpoint }, 0);
  }
  return metrics;
}
