/**
 * The gauges that describe shared Redis state, filled at scrape time from one snapshot per scrape, so every
 * replica reports the same values and none goes stale when another replica did the work. A gauge whose label
 * set is known (statuses, configured endpoints) reports 0 for each known label rather than vanishing when its
 * set empties: dashboards and `absent()` alerts need the series. Only a failed snapshot drops them, so a scrape
 * never shows numbers it could not read.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { statusLabel, statusLabels, terminalSet } from '../shared/status.js';
import { withTimeout } from '../shared/timeout.js';

/** Shared state read from Redis once per scrape. */
export interface MetricsSnapshot {
  /** Tracked lipsyncs per last seen status; keys are mapped to bounded labels with the shared statusLabel. */
  trackedByStatus: Record<string, number>;
  /** Dead-lettered deliveries per webhook endpoint name. */
  deadLettersByEndpoint: Record<string, number>;
  /** Circuit-breaker state per webhook endpoint: 0 closed, 1 half-open, 2 open (absent: not read). */
  endpointStates?: Record<string, number>;
  /** Live hand-off markers per webhook endpoint (absent: not read). */
  handoffMarkers?: Record<string, number>;
  /** Deliveries waiting in each webhook endpoint's FIFOs (absent: not read). */
  queuedDeliveries?: Record<string, number>;
  /** BullMQ job counts, e.g. `{ queue: 'lsync-webhooks', state: 'waiting', count: 3 }`. */
  queueJobs: Array<{ queue: string; state: string; count: number }>;
  /** Unix seconds of the last poll cycle that succeeded on any replica; null before the first one. */
  lastSuccessfulPollSeconds: number | null;
  /** Ids remembered by discovery (bounded by poll.discoverMaxRemembered). */
  discoveredIds: number;
  /** Pending lipsyncs reported stalled, per status they stalled in. */
  stalledByStatus: Record<string, number>;
}

export interface ScrapeGaugeOptions {
  registers: Registry[];
  /** `lipsync_sync_` + suffix. */
  name: (suffix: string) => string;
  /** Called once per scrape; without it the snapshot gauges have no series. */
  snapshot: (() => Promise<MetricsSnapshot>) | undefined;
  /** A snapshot slower than this counts as failed, so a hung Redis cannot hang /metrics. */
  snapshotTimeoutMs: number;
  /** Told about each failed snapshot (for logging); the scrape goes on without the snapshot gauges. */
  onSnapshotError: ((err: unknown) => void) | undefined;
  /** Configured webhook endpoints: their dead-letter gauge reads 0 when the snapshot omits them. */
  webhookEndpoints: readonly string[];
  /** Configured terminal statuses: zero-filled status labels beside the known ones. */
  terminalStatuses: readonly string[];
}

export function createScrapeGauges(options: ScrapeGaugeOptions) {
  const { registers, name, webhookEndpoints } = options;
  const terminal = terminalSet(options.terminalStatuses);
  const knownStatuses = statusLabels(terminal);
  const readSnapshot = sharedPerScrape(options.snapshot, options.snapshotTimeoutMs, (err) => {
    snapshotErrors.inc();
    options.onSnapshotError?.(err);
  });

  /** A gauge by bounded status label, zero-filled for every known status. */
  function statusGauge(suffix: string, help: string, read: (snapshot: MetricsSnapshot) => Record<string, number>): Gauge<'status'> {
    return new Gauge({
      name: name(suffix),
      help,
      labelNames: ['status'] as const,
      registers,
      async collect() {
        const snapshot = await readSnapshot();
        this.reset();
        if (!snapshot) return;
        for (const status of knownStatuses) this.set({ status }, 0);
        // inc, not set: two raw statuses may map to one label ("Done" and "done", or two unknown ones → other).
        for (const [status, count] of Object.entries(read(snapshot))) this.inc({ status: statusLabel(status, terminal) }, count);
      },
    });
  }

  /** A gauge by webhook endpoint; `zeroFill` reports 0 for each configured endpoint the snapshot leaves out. */
  function endpointGauge(suffix: string, help: string, read: (snapshot: MetricsSnapshot) => Record<string, number> | undefined, zeroFill: boolean): Gauge<'endpoint'> {
    return new Gauge({
      name: name(suffix),
      help,
      labelNames: ['endpoint'] as const,
      registers,
      async collect() {
        const snapshot = await readSnapshot();
        this.reset();
        const values = snapshot === null ? undefined : read(snapshot);
        if (values === undefined) return;
        if (zeroFill) for (const endpoint of webhookEndpoints) this.set({ endpoint }, 0);
        for (const [endpoint, value] of Object.entries(values)) this.set({ endpoint }, value);
      },
    });
  }

  const snapshotErrors = new Counter({
    name: name('snapshot_errors_total'),
    help: 'Scrapes whose Redis snapshot failed or timed out; the snapshot gauges were left out of those scrapes.',
    registers,
    // Waits for this scrape's snapshot so a failure is counted in the same scrape that lacks the gauges.
    async collect() {
      await readSnapshot();
    },
  });

  return {
    /** `snapshot_errors_total`: scrapes that could not read the snapshot. */
    snapshotErrors,
    /** `tracked_lipsyncs{status}`: 0 for every known status, so an empty set still has series. */
    trackedLipsyncs: statusGauge('tracked_lipsyncs', 'Tracked lipsyncs by last seen status (from Redis at scrape time).', (s) => s.trackedByStatus),
    /** `stalled_lipsyncs{status}`: pending lipsyncs reported `lipsync.stalled` and not moved since. */
    stalledLipsyncs: statusGauge('stalled_lipsyncs', 'Pending lipsyncs that have not moved for longer than poll.stalledAfterSeconds allows for their status (from Redis at scrape time).', (s) => s.stalledByStatus),
    /** `webhook_dead_letters{endpoint}`: 0 for every configured endpoint. */
    webhookDeadLetters: endpointGauge('webhook_dead_letters', 'Dead-lettered webhook deliveries waiting for replay, by endpoint (from Redis at scrape time).', (s) => s.deadLettersByEndpoint, true),
    /** `webhook_endpoint_state{endpoint}`: 0 closed, 1 half-open, 2 open; 0 for every configured endpoint. */
    webhookEndpointState: endpointGauge('webhook_endpoint_state', 'Circuit-breaker state of each webhook endpoint, shared by replicas: 0 closed, 1 half-open, 2 open (from Redis at scrape time).', (s) => s.endpointStates, true),
    /** `webhook_handoff_markers{endpoint}`: idempotency markers alive now; each expires after a reclaim could need it. */
    webhookHandoffMarkers: endpointGauge('webhook_handoff_markers', 'Webhook hand-off markers alive per endpoint (each lives as long as a reclaim can need it; from Redis at scrape time).', (s) => s.handoffMarkers, false),
    /** `webhook_queued_deliveries{endpoint}`: deliveries waiting in the endpoint's per-lipsync FIFOs. */
    webhookQueuedDeliveries: endpointGauge('webhook_queued_deliveries', "Webhook deliveries waiting in each endpoint's per-lipsync FIFOs, the one in flight included (from Redis at scrape time).", (s) => s.queuedDeliveries, false),
    /** `queue_jobs{queue,state}`: as BullMQ counts them (it reports every asked state, zeros included). */
    queueJobs: new Gauge({
      name: name('queue_jobs'),
      help: 'BullMQ jobs by queue and state (from Redis at scrape time).',
      labelNames: ['queue', 'state'] as const,
      registers,
      async collect() {
        const snapshot = await readSnapshot();
        this.reset();
        for (const { queue, state, count } of snapshot?.queueJobs ?? []) this.inc({ queue, state }, count);
      },
    }),
    /** `discovered_ids`: the size of the bounded discovered set. */
    discoveredIds: new Gauge({
      name: name('discovered_ids'),
      help: 'Ids remembered by discovery so they are not re-tracked (from Redis at scrape time; capped by poll.discoverMaxRemembered).',
      registers,
      async collect() {
        const snapshot = await readSnapshot();
        if (snapshot) this.set(snapshot.discoveredIds);
        else this.remove({});
      },
    }),
    /** `last_successful_poll_timestamp_seconds`. */
    lastSuccessfulPoll: new Gauge({
      name: name('last_successful_poll_timestamp_seconds'),
      help: 'Unix time of the last successful poll cycle on any replica (from Redis at scrape time).',
      registers,
      async collect() {
        const seconds = (await readSnapshot())?.lastSuccessfulPollSeconds ?? null;
        // No series rather than 0 when unknown: 0 would read as "stalled since 1970"; the alert uses absent().
        if (seconds === null) this.remove({});
        else this.set(seconds);
      },
    }),
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
