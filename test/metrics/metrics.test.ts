import { Registry } from 'prom-client';
import {
  CREATIFY_REQUEST_BUCKETS,
  POLL_CYCLE_BUCKETS,
  WEBHOOK_DELIVERY_BUCKETS,
  createMetrics,
  type MetricsSnapshot,
} from '../../src/metrics/metrics.js';
import { EVENT_TYPES } from '../../src/events/types.js';
import { KNOWN_STATUSES } from '../../src/shared/status.js';
import { family, labelSets, parseExposition, samples, valueOf, type Family } from '../helpers/prometheus.js';

async function scrape(registry: Registry): Promise<Family[]> {
  return parseExposition(await registry.metrics());
}

const P = 'lipsync_sync_';

function snapshotOf(partial: Partial<MetricsSnapshot> = {}): MetricsSnapshot {
  return { trackedByStatus: {}, deadLettersByEndpoint: {}, queueJobs: [], lastSuccessfulPollSeconds: null, discoveredIds: 0, stalledByStatus: {}, ...partial };
}

describe('createMetrics', () => {
  it('exposes every SPEC metric under the lipsync_sync_ prefix with its type', async () => {
    const metrics = createMetrics({ collectDefaults: false, snapshot: async () => snapshotOf({ lastSuccessfulPollSeconds: 1 }) });
    const families = await scrape(metrics.registry);
    const types = Object.fromEntries(families.map((f) => [f.name, f.type]));
    expect(types).toMatchObject({
      [`${P}polls_total`]: 'COUNTER',
      [`${P}poll_cycle_duration_seconds`]: 'HISTOGRAM',
      [`${P}creatify_requests_total`]: 'COUNTER',
      [`${P}creatify_request_duration_seconds`]: 'HISTOGRAM',
      [`${P}tracked_lipsyncs`]: 'GAUGE',
      [`${P}stalled_lipsyncs`]: 'GAUGE',
      [`${P}transitions_total`]: 'COUNTER',
      [`${P}events_total`]: 'COUNTER',
      [`${P}failures_total`]: 'COUNTER',
      [`${P}webhook_deliveries_total`]: 'COUNTER',
      [`${P}webhook_delivery_duration_seconds`]: 'HISTOGRAM',
      [`${P}webhook_dead_letters`]: 'GAUGE',
      [`${P}queue_jobs`]: 'GAUGE',
      [`${P}last_successful_poll_timestamp_seconds`]: 'GAUGE',
      [`${P}malformed_items_total`]: 'COUNTER',
      [`${P}missing_total`]: 'COUNTER',
      [`${P}creatify_oversized_responses_total`]: 'COUNTER',
      [`${P}redis_data_lost_total`]: 'COUNTER',
      [`${P}discovered_ids`]: 'GAUGE',
      [`${P}snapshot_errors_total`]: 'COUNTER',
    });
  });

  it('each property feeds the SPEC metric named for it', async () => {
    const m = createMetrics({ collectDefaults: false });
    m.polls.inc({ outcome: 'rate_limited' });
    m.creatifyRequests.inc({ code: 'network' });
    m.transitions.inc({ from: 'none', to: 'running' });
    m.events.inc({ type: 'lipsync.completed' });
    m.failures.inc({ reason_class: 'audio' });
    m.webhookDeliveries.inc({ endpoint: 'crm', outcome: 'retry' });
    m.malformedItems.inc();
    m.missing.inc(4);

    const f = await scrape(m.registry);
    expect(valueOf(f, `${P}polls_total`, { outcome: 'rate_limited' })).toBe(1);
    expect(valueOf(f, `${P}creatify_requests_total`, { code: 'network' })).toBe(1);
    expect(labelSets(f, `${P}transitions_total`)).toEqual([{ from: 'none', to: 'running' }]);
    expect(valueOf(f, `${P}events_total`, { type: 'lipsync.completed' })).toBe(1);
    expect(valueOf(f, `${P}failures_total`, { reason_class: 'audio' })).toBe(1);
    expect(valueOf(f, `${P}webhook_deliveries_total`, { endpoint: 'crm', outcome: 'retry' })).toBe(1);
    expect(valueOf(f, `${P}malformed_items_total`)).toBe(1);
    expect(valueOf(f, `${P}missing_total`)).toBe(4);
  });

  it('starts known outcomes, event types and failure classes at 0 so increase() sees the first one', async () => {
    const m = createMetrics({ collectDefaults: false, failureClasses: ['audio', 'other'] });
    const f = await scrape(m.registry);
    expect(labelSets(f, `${P}polls_total`).map((l) => l.outcome).sort()).toEqual(['error', 'ok', 'rate_limited']);
    expect(labelSets(f, `${P}events_total`).map((l) => l.type).sort()).toEqual([...EVENT_TYPES].sort());
    expect(labelSets(f, `${P}failures_total`).map((l) => l.reason_class).sort()).toEqual(['audio', 'other']);
    expect(samples(f, `${P}events_total`).every((s) => s.value === '0')).toBe(true);
  });

  it('starts configured webhook endpoints at 0 deliveries and 0 dead letters', async () => {
    const m = createMetrics({
      collectDefaults: false,
      webhookEndpoints: ['crm', 'slack'],
      snapshot: async () => snapshotOf({ deadLettersByEndpoint: { crm: 2 } }),
    });
    const f = await scrape(m.registry);
    expect(samples(f, `${P}webhook_deliveries_total`)).toHaveLength(8);
    expect(valueOf(f, `${P}webhook_deliveries_total`, { endpoint: 'slack', outcome: 'dead_lettered' })).toBe(0);
    expect(valueOf(f, `${P}webhook_dead_letters`, { endpoint: 'crm' })).toBe(2);
    expect(valueOf(f, `${P}webhook_dead_letters`, { endpoint: 'slack' })).toBe(0);
  });

  it('pre-creates the default failure classes when none are given', async () => {
    const f = await scrape(createMetrics({ collectDefaults: false }).registry);
    const classes = labelSets(f, `${P}failures_total`).map((l) => l.reason_class);
    expect(classes).toEqual(expect.arrayContaining(['face_not_detected', 'audio', 'credits', 'other', 'unknown']));
  });

  it('uses the declared buckets: Creatify requests 10 ms to 30 s, webhooks 5 ms to 30 s', async () => {
    const m = createMetrics({ collectDefaults: false });
    m.creatifyRequestDuration.observe(0.02);
    m.webhookDeliveryDuration.observe({ endpoint: 'crm' }, 0.004);
    m.pollCycleDuration.observe(0.3);
    const f = await scrape(m.registry);
    const bound = (le: string): number => (le === '+Inf' ? Infinity : Number(le));
    const bounds = (name: string): number[] => Object.keys(samples(f, name)[0]?.buckets ?? {}).map(bound).sort((a, b) => a - b);
    expect(bounds(`${P}creatify_request_duration_seconds`)).toEqual([...CREATIFY_REQUEST_BUCKETS, Infinity]);
    expect(bounds(`${P}webhook_delivery_duration_seconds`)).toEqual([...WEBHOOK_DELIVERY_BUCKETS, Infinity]);
    expect(bounds(`${P}poll_cycle_duration_seconds`)).toEqual([...POLL_CYCLE_BUCKETS, Infinity]);
    expect([CREATIFY_REQUEST_BUCKETS[0], CREATIFY_REQUEST_BUCKETS.at(-1)]).toEqual([0.01, 30]);
    expect([WEBHOOK_DELIVERY_BUCKETS[0], WEBHOOK_DELIVERY_BUCKETS.at(-1)]).toEqual([0.005, 30]);
  });

  it('fills the gauges from the snapshot and drops labels that vanished since the last scrape', async () => {
    const snapshots = [
      snapshotOf({
        trackedByStatus: { running: 3, Done: 1, done: 2 },
        deadLettersByEndpoint: { crm: 2, slack: 1 },
        queueJobs: [
          { queue: 'lsync-webhooks', state: 'waiting', count: 5 },
          { queue: 'lsync-poll', state: 'active', count: 1 },
        ],
        lastSuccessfulPollSeconds: 1_767_225_600,
        discoveredIds: 7,
        stalledByStatus: { in_queue: 2 },
      }),
      snapshotOf({
        trackedByStatus: { running: 1 },
        deadLettersByEndpoint: { crm: 0 },
        queueJobs: [{ queue: 'lsync-webhooks', state: 'waiting', count: 0 }],
        lastSuccessfulPollSeconds: null,
      }),
    ];
    let next = 0;
    const m = createMetrics({
      collectDefaults: false,
      snapshot: async () => {
        const s = snapshots[next++];
        if (!s) throw new Error('no more snapshots');
        return s;
      },
    });

    const first = await scrape(m.registry);
    expect(valueOf(first, `${P}tracked_lipsyncs`, { status: 'running' })).toBe(3);
    expect(valueOf(first, `${P}tracked_lipsyncs`, { status: 'done' })).toBe(3);
    expect(valueOf(first, `${P}webhook_dead_letters`, { endpoint: 'slack' })).toBe(1);
    expect(valueOf(first, `${P}queue_jobs`, { queue: 'lsync-webhooks', state: 'waiting' })).toBe(5);
    expect(valueOf(first, `${P}queue_jobs`, { queue: 'lsync-poll', state: 'active' })).toBe(1);
    expect(valueOf(first, `${P}last_successful_poll_timestamp_seconds`)).toBe(1_767_225_600);
    expect(valueOf(first, `${P}discovered_ids`)).toBe(7);
    expect(valueOf(first, `${P}stalled_lipsyncs`, { status: 'in_queue' })).toBe(2);
    expect(valueOf(first, `${P}stalled_lipsyncs`, { status: 'running' })).toBe(0);

    const second = await scrape(m.registry);
    expect(valueOf(second, `${P}tracked_lipsyncs`, { status: 'running' })).toBe(1);
    expect(valueOf(second, `${P}tracked_lipsyncs`, { status: 'done' })).toBe(0);
    expect(valueOf(second, `${P}stalled_lipsyncs`, { status: 'in_queue' })).toBe(0);
    expect(labelSets(second, `${P}webhook_dead_letters`)).toEqual([{ endpoint: 'crm' }]);
    expect(labelSets(second, `${P}queue_jobs`)).toEqual([{ queue: 'lsync-webhooks', state: 'waiting' }]);
    // Unknown is no series rather than 0, which would read as "last polled in 1970".
    expect(samples(second, `${P}last_successful_poll_timestamp_seconds`)).toEqual([]);
  });

  it('calls the snapshot once per scrape, even while it is slow', async () => {
    let calls = 0;
    const m = createMetrics({
      collectDefaults: false,
      snapshot: async () => {
        calls++;
        await new Promise((resolve) => setTimeout(resolve, 20));
        return snapshotOf({ trackedByStatus: { running: calls } });
      },
    });
    const first = await scrape(m.registry);
    expect(calls).toBe(1);
    expect(valueOf(first, `${P}tracked_lipsyncs`, { status: 'running' })).toBe(1);
    const second = await scrape(m.registry);
    expect(calls).toBe(2);
    expect(valueOf(second, `${P}tracked_lipsyncs`, { status: 'running' })).toBe(2);
  });

  it('still serves the other metrics when the snapshot rejects, and counts the failure in that scrape', async () => {
    const errors: unknown[] = [];
    const m = createMetrics({
      collectDefaults: false,
      snapshot: async () => {
        throw new Error('ECONNREFUSED 127.0.0.1:6379');
      },
      onSnapshotError: (err) => errors.push(err),
    });
    m.polls.inc({ outcome: 'ok' });

    const f = await scrape(m.registry);
    expect(valueOf(f, `${P}polls_total`, { outcome: 'ok' })).toBe(1);
    expect(valueOf(f, `${P}snapshot_errors_total`)).toBe(1);
    expect(samples(f, `${P}tracked_lipsyncs`)).toEqual([]);
    expect(samples(f, `${P}last_successful_poll_timestamp_seconds`)).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toContain('ECONNREFUSED');
  });

  it('drops stale snapshot gauges when a later snapshot fails', async () => {
    let fail = false;
    const m = createMetrics({
      collectDefaults: false,
      webhookEndpoints: ['crm'],
      snapshot: async () => {
        if (fail) throw new Error('redis down');
        return snapshotOf({ trackedByStatus: { running: 2 }, lastSuccessfulPollSeconds: 100 });
      },
    });
    expect(valueOf(await scrape(m.registry), `${P}tracked_lipsyncs`, { status: 'running' })).toBe(2);
    fail = true;
    const f = await scrape(m.registry);
    expect(samples(f, `${P}tracked_lipsyncs`)).toEqual([]);
    expect(samples(f, `${P}webhook_dead_letters`)).toEqual([]);
    expect(samples(f, `${P}last_successful_poll_timestamp_seconds`)).toEqual([]);
  });

  it('survives a snapshot that throws synchronously', async () => {
    const m = createMetrics({
      collectDefaults: false,
      snapshot: () => {
        throw new Error('not connected');
      },
    });
    const f = await scrape(m.registry);
    expect(valueOf(f, `${P}snapshot_errors_total`)).toBe(1);
  });

  it('gives up on a hung snapshot after snapshotTimeoutMs instead of hanging the scrape', async () => {
    const m = createMetrics({
      collectDefaults: false,
      snapshotTimeoutMs: 50,
      snapshot: () => new Promise<MetricsSnapshot>(() => undefined),
    });
    const started = Date.now();
    const f = await scrape(m.registry);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(valueOf(f, `${P}snapshot_errors_total`)).toBe(1);
  });

  it('has no snapshot gauge series without a snapshot callback', async () => {
    const f = await scrape(createMetrics({ collectDefaults: false }).registry);
    expect(samples(f, `${P}tracked_lipsyncs`)).toEqual([]);
    expect(samples(f, `${P}last_successful_poll_timestamp_seconds`)).toEqual([]);
    expect(valueOf(f, `${P}snapshot_errors_total`)).toBe(0);
  });

  it('adds prom-client default metrics with the lipsync_sync_ prefix unless disabled', async () => {
    const withDefaults = await scrape(createMetrics().registry);
    expect(family(withDefaults, `${P}process_cpu_seconds_total`).type).toBe('COUNTER');
    expect(withDefaults.some((f) => f.name === 'process_cpu_seconds_total')).toBe(false);

    const without = await scrape(createMetrics({ collectDefaults: false }).registry);
    expect(without.some((f) => f.name.includes('process_cpu'))).toBe(false);
  });

  it('registers on the registry it is given', () => {
    const registry = new Registry();
    createMetrics({ registry, collectDefaults: false });
    expect(registry.getSingleMetric(`${P}polls_total`)).toBeDefined();
  });
});

describe('tracked_lipsyncs', () => {
  const statuses = (f: Family[]): Record<string, number> =>
    Object.fromEntries(samples(f, `${P}tracked_lipsyncs`).map((s) => [s.labels?.['status'] ?? '', Number(s.value)]));

  it('reports 0 for every known status, new, other and configured terminal ones when nothing is tracked', async () => {
    const m = createMetrics({ collectDefaults: false, terminalStatuses: [' Expired '], snapshot: async () => snapshotOf() });
    const zeros = Object.fromEntries([...KNOWN_STATUSES, 'expired', 'new', 'other'].map((s) => [s, 0]));
    expect(statuses(await scrape(m.registry))).toEqual(zeros);
  });

  it('maps statuses outside the known set to other, so upstream cannot create series', async () => {
    const m = createMetrics({
      collectDefaults: false,
      snapshot: async () => snapshotOf({ trackedByStatus: { Weird: 2, 'also-weird': 1, new: 4, RUNNING: 1 } }),
    });
    const got = statuses(await scrape(m.registry));
    expect(got).toMatchObject({ other: 3, new: 4, running: 1, done: 0 });
    expect(Object.keys(got).sort()).toEqual([...KNOWN_STATUSES, 'new', 'other'].sort());
  });
});
