import { maxInFlightFor } from '../../src/webhooks/delivery-worker.js';
import { waitUntil } from '../helpers/redis.js';
import { lipsyncEvents, pipelineTestContext, RecordingObserver, sleep, webhookId } from './fixtures/pipeline-harness.js';

const t = pipelineTestContext('endp');
const { endpoint, requestsTo } = t;

describe('maxInFlightFor', () => {
  it('shares delivery.concurrency out fairly, at least 1 each, unless the endpoint sets its own', () => {
    expect(maxInFlightFor({}, 50, 2)).toBe(25);
    expect(maxInFlightFor({}, 50, 3)).toBe(16);
    expect(maxInFlightFor({}, 2, 5)).toBe(1);
    expect(maxInFlightFor({ maxInFlight: 7 }, 50, 2)).toBe(7);
  });
});

describe('circuit breaker', () => {
  const tuning = { breaker: { failureThreshold: 3, openMs: 1000 } };

  it('opens after consecutive failures (nothing sent while open), probes once when half-open, closes on success', async () => {
    let failing = true;
    t.receiver.handler = () => (failing ? { status: 503 } : { status: 200, delayMs: 300 });
    const observer = new RecordingObserver();
    const pipeline = t.h.start([endpoint('a', { maxAttempts: 50, maxInFlight: 4 })], { observer, tuning: { blockMs: 200, ...tuning } });
    const events = Array.from({ length: 6 }, () => lipsyncEvents(1)[0]!);
    await t.h.append(events);

    await waitUntil(async () => (await pipeline.breakers.states(['a']))['a'] === 2, 'the breaker to open', 5000);
    const openedAt = Date.now();
    // With 4 slots, a request already on its way when the breaker opened may still land: let those arrive
    // (the receiver answers 503 at once) before counting, so the next request seen is the probe.
    await sleep(150);
    const sentWhileClosed = t.receiver.requests.length;
    expect(sentWhileClosed).toBeGreaterThanOrEqual(3);
    failing = false;
    await waitUntil(() => t.receiver.requests.length > sentWhileClosed, 'the half-open probe', 5000);
    const probe = t.receiver.requests[sentWhileClosed]!;
    // Nothing went out while open.
    expect(probe.receivedAt - openedAt).toBeGreaterThanOrEqual(700);
    expect((await pipeline.snapshot()).endpointStates).toEqual({ a: 1 });
    await sleep(200);
    // One probe only: the probe is answered after 300 ms, and nothing else was sent meanwhile.
    expect(t.receiver.requests.length).toBe(sentWhileClosed + 1);

    await waitUntil(() => new Set(t.receiver.requests.slice(sentWhileClosed).map(webhookId)).size === events.length, 'every event delivered after the breaker closed', 10_000);
    expect((await pipeline.snapshot()).endpointStates).toEqual({ a: 0 });
    expect(await pipeline.deadLetters.count()).toEqual({});
    expect(observer.outcomes('a')).not.toContain('dead_lettered');
  });

  it('reopens when the half-open probe fails', async () => {
    t.receiver.defaultStatus = 503;
    const pipeline = t.h.start([endpoint('a', { maxAttempts: 50, maxInFlight: 1 })], { tuning: { blockMs: 200, ...tuning } });
    await t.h.append(lipsyncEvents(1));
    await t.receiver.waitFor(4, 6000);
    const times = t.receiver.requests.map((r) => r.receivedAt);
    expect(times[3]! - times[2]!).toBeGreaterThanOrEqual(900); // open after the third failure
    t.receiver.defaultStatus = 200;
    await t.receiver.waitFor(5, 6000);
    expect(t.receiver.requests[4]!.receivedAt - times[3]!).toBeGreaterThanOrEqual(900); // the failed probe reopened it
    await t.h.waitIdle(pipeline);
    expect((await pipeline.snapshot()).endpointStates).toEqual({ a: 0 });
  });

  it('does not count a 4xx other than 429 toward opening', async () => {
    t.receiver.defaultStatus = 400;
    const pipeline = t.h.start([endpoint('a', { maxAttempts: 5, maxInFlight: 1 })], { tuning: { blockMs: 200, ...tuning } });
    await t.h.append(lipsyncEvents(1));
    await waitUntil(async () => (await pipeline.deadLetters.count())['a'] === 1, 'the dead letter', 5000);
    expect(t.receiver.requests).toHaveLength(5);
    expect((await pipeline.snapshot()).endpointStates).toEqual({ a: 0 });
  });
});

describe('auto-disable and the dead-letter cap', () => {
  it('disables an endpoint after disableAfterSeconds of continuous failure; its held deliveries become replayable dead letters', async () => {
    let failing = true;
    t.receiver.handler = (req) => (req.url === '/a' && failing ? { status: 503 } : { status: 200 });
    const pipeline = t.h.start([endpoint('a', { maxAttempts: 50, disableAfterSeconds: 1 }), endpoint('b')], {
      delivery: { retryScheduleSeconds: [0.2], concurrency: 8 },
      tuning: { blockMs: 200, breaker: { failureThreshold: 100 } },
    });
    const events = lipsyncEvents(3);
    await t.h.append(events);

    await waitUntil(async () => (await pipeline.deadLetters.count())['a'] === 3, 'the held deliveries to be dead-lettered', 8000);
    const disabled = await pipeline.deadLetters.disabled();
    expect(disabled['a']?.reason).toMatch(/failing without a success for 1 s/);
    const letters = await pipeline.deadLetters.list('a');
    expect(letters.map((l) => l.eventId)).toEqual(events.map((e) => e.id));
    expect(letters.map((l) => l.error)).toEqual(['HTTP 503', 'endpoint disabled', 'endpoint disabled']);
    const failedAttempts = requestsTo('a').length;
    expect(failedAttempts).toBeGreaterThanOrEqual(2);
    expect(requestsTo('b').length).toBe(3);

    failing = false;
    expect(await pipeline.deadLetters.replay('a')).toEqual({ replayed: 3, skipped: [] });
    await waitUntil(() => requestsTo('a').length === failedAttempts + 3, 'the replayed deliveries', 5000);
    await t.h.waitIdle(pipeline);
    expect(requestsTo('a').slice(failedAttempts).map(webhookId)).toEqual(events.map((e) => e.id));
    expect(await pipeline.deadLetters.disabled()).toEqual({});
  });

  it('keeps at most delivery.maxDeadLetters per endpoint, dropping the oldest and reporting how many', async () => {
    t.receiver.defaultStatus = 500;
    const observer = new RecordingObserver();
    const pipeline = t.h.start([endpoint('a', { maxAttempts: 1, maxInFlight: 1 })], { observer, delivery: { retryScheduleSeconds: [0.05], concurrency: 1, maxDeadLetters: 2 } });
    const events = Array.from({ length: 4 }, () => lipsyncEvents(1)[0]!);
    for (const ev of events) {
      await t.h.append([ev]);
      await waitUntil(() => t.receiver.requests.some((r) => webhookId(r) === ev.id), 'the attempt', 5000);
    }
    await t.h.waitIdle(pipeline);
    const kept = await pipeline.deadLetters.list('a');
    expect(kept.map((l) => l.eventId)).toEqual(events.slice(2).map((e) => e.id));
    expect(observer.dropped.reduce((sum, d) => sum + d.count, 0)).toBe(2);
    expect(observer.dropped.every((d) => d.endpoint === 'a')).toBe(true);
  });

  it('reports live hand-off markers and queued deliveries per endpoint; markers live only as long as a reclaim can need them', async () => {
    t.receiver.defaultStatus = 503;
    const pipeline = t.h.start([endpoint('a', { maxAttempts: 50 })], { tuning: { blockMs: 200, claimIdleMs: 10, claimIntervalMs: 10 } });
    await t.h.append(lipsyncEvents(2));
    await t.receiver.waitFor(1, 5000);
    expect((await pipeline.snapshot()).queued).toEqual({ a: 2 });
    t.receiver.defaultStatus = 200;
    await t.h.waitIdle(pipeline);
    expect((await pipeline.snapshot()).queued).toEqual({ a: 0 });
    expect((await pipeline.snapshot()).handoffMarkers).toEqual({ a: 2 });
    // Lifetime = 2 × (claim idle + interval) + 60 s, not days.
    const markers = await t.h.redis.zrange(t.h.keys.deliveryHandedOff('a'), 0, -1, 'WITHSCORES');
    expect(Number(markers[1]) - Date.now()).toBeLessThanOrEqual(60_040);
    expect(Number(markers[1]) - Date.now()).toBeGreaterThan(59_000);
  });
});

