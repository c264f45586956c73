import { DeadLetters } from '../../src/webhooks/dead-letters.js';
import { replayToken } from '../../src/webhooks/fifo.js';
import { verifyWebhook } from '../../src/webhooks/verify.js';
import { waitUntil } from '../helpers/redis.js';
import { completedOnSight, lipsyncEvents, pipelineTestContext, RecordingObserver, SECRET_A, SECRET_B, webhookId } from './fixtures/pipeline-harness.js';

const t = pipelineTestContext('deliv');
const { endpoint, requestsTo } = t;

describe('webhook pipeline delivery', () => {
  it('delivers one event to two endpoints, signed per endpoint, body = event JSON, webhook-id = event id', async () => {
    const pipeline = t.h.start([endpoint('a'), endpoint('b', { secret: SECRET_B })]);
    const [event] = lipsyncEvents(1);
    await t.h.append([event!]);

    await t.receiver.waitFor(2, 5000);
    await t.h.waitIdle(pipeline);
    for (const [name, secret] of [['a', SECRET_A], ['b', SECRET_B]] as const) {
      const reqs = requestsTo(name);
      expect(reqs).toHaveLength(1);
      const req = reqs[0]!;
      expect(webhookId(req)).toBe(event!.id);
      expect(req.body).toBe(JSON.stringify(event));
      expect(req.headers['content-type']).toBe('application/json');
      expect(() => verifyWebhook({ secret, headers: req.headers, body: req.body })).not.toThrow();
    }
    // Each endpoint's signature is its own: a's request does not verify with b's secret.
    expect(() => verifyWebhook({ secret: SECRET_B, headers: requestsTo('a')[0]!.headers, body: requestsTo('a')[0]!.body })).toThrow();
    // Handed off, acknowledged and deleted from the stream.
    const pending = (await t.h.redis.xpending(t.h.keys.events, pipeline.dispatcher.group)) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
  });

  it('delivers events appended before the first start', async () => {
    const events = lipsyncEvents(2);
    await t.h.append(events);
    const pipeline = t.h.start([endpoint('a')]);
    await t.receiver.waitFor(2, 5000);
    await t.h.waitIdle(pipeline);
    expect(t.receiver.requests.map(webhookId)).toEqual(events.map((e) => e.id));
  });

  it('sends an endpoint only the event types its filter names', async () => {
    const pipeline = t.h.start([endpoint('a', { events: ['lipsync.completed'] }), endpoint('b')]);
    const events = completedOnSight();
    expect(events.map((e) => e.type)).toEqual(['lipsync.tracked', 'lipsync.completed']);
    await t.h.append(events);

    await t.receiver.waitFor(3, 5000);
    // Idle means no event or job is left that could still deliver: every request has been recorded.
    await t.h.waitIdle(pipeline);
    expect(requestsTo('a').map((r) => JSON.parse(r.body).type)).toEqual(['lipsync.completed']);
    expect(requestsTo('b').map((r) => JSON.parse(r.body).type)).toEqual(['lipsync.tracked', 'lipsync.completed']);
  });

  it('retries until the receiver comes back, with the same webhook-id', async () => {
    const observer = new RecordingObserver();
    const pipeline = t.h.start([endpoint('a')], { observer });
    t.receiver.enqueue({ status: 503 }, { status: 503 });
    const [event] = lipsyncEvents(1);
    await t.h.append([event!]);

    await t.receiver.waitFor(3, 5000);
    await t.h.waitIdle(pipeline);
    expect(t.receiver.requests.map(webhookId)).toEqual([event!.id, event!.id, event!.id]);
    expect(observer.outcomes('a')).toEqual(['retry', 'retry', 'delivered']);
    expect(await pipeline.deadLetters.count()).toEqual({});
  });

  it('uses an endpoint’s own retryScheduleSeconds over delivery.retryScheduleSeconds, and its length for attempts', async () => {
    const observer = new RecordingObserver();
    const fast = endpoint('fast', { retryScheduleSeconds: [0.05, 0.05] });
    const pipeline = t.h.start([fast, endpoint('slow')], { observer, delivery: { retryScheduleSeconds: [60], concurrency: 4 } });
    t.receiver.handler = () => ({ status: 503 });
    const [event] = lipsyncEvents(1);
    await t.h.append([event!]);
    // fast: 3 attempts 50 ms apart, then dead-lettered; slow: 1 attempt, next one a minute away.
    await waitUntil(async () => ((await pipeline.deadLetters.count())['fast'] ?? 0) === 1, 'fast to dead-letter', 5000);
    expect(requestsTo('fast')).toHaveLength(3);
    expect(requestsTo('slow')).toHaveLength(1);
    expect(observer.outcomes('fast')).toEqual(['retry', 'retry', 'dead_lettered']);
  });

  it('waits as long as Retry-After asks when that is longer than the schedule', async () => {
    const pipeline = t.h.start([endpoint('a')]);
    t.receiver.enqueue({ status: 429, headers: { 'retry-after': '1' } });
    await t.h.append(lipsyncEvents(1));

    await t.receiver.waitFor(2, 5000);
    await t.h.waitIdle(pipeline);
    const [first, second] = t.receiver.requests;
    // The schedule alone would retry after 50 ms ± 20 %.
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
  });

  it('dead-letters after maxAttempts, and a replay delivers it and empties the list', async () => {
    const observer = new RecordingObserver();
    const pipeline = t.h.start([endpoint('a', { maxAttempts: 2 })], { observer });
    t.receiver.defaultStatus = 500;
    const [event] = lipsyncEvents(1);
    await t.h.append([event!]);

    await waitUntil(async () => (await pipeline.deadLetters.count())['a'] === 1, 'a dead letter', 5000);
    await t.h.waitIdle(pipeline);
    expect(t.receiver.requests).toHaveLength(2);
    expect(observer.outcomes('a')).toEqual(['retry', 'dead_lettered']);
    const [letter] = await pipeline.deadLetters.list('a');
    expect(letter).toMatchObject({ eventId: event!.id, endpoint: 'a', lipsyncId: event!.data.lipsync_id, event: JSON.stringify(event), error: 'HTTP 500', statusCode: 500, attempts: 2 });
    expect(Date.parse(letter!.deadAt)).not.toBeNaN();

    t.receiver.defaultStatus = 200;
    expect(await pipeline.deadLetters.replay()).toEqual({ replayed: 1, skipped: [] });
    await t.receiver.waitFor(3, 5000);
    await t.h.waitIdle(pipeline);
    const replayed = t.receiver.requests[2]!;
    expect(webhookId(replayed)).toBe(event!.id);
    expect(replayed.body).toBe(JSON.stringify(event));
    expect(() => verifyWebhook({ secret: SECRET_A, headers: replayed.headers, body: replayed.body })).not.toThrow();
    expect(await pipeline.deadLetters.count()).toEqual({ a: 0 });
    expect(await pipeline.deadLetters.list()).toEqual([]);
  });

  it('a replay that crashed after handing a letter off and is run again delivers it once (CLI entry point)', async () => {
    const pipeline = t.h.start([endpoint('a', { maxAttempts: 1 })]);
    t.receiver.defaultStatus = 500;
    const [event] = lipsyncEvents(1);
    await t.h.append([event!]);
    await waitUntil(async () => (await pipeline.deadLetters.count())['a'] === 1, 'a dead letter', 5000);
    t.receiver.defaultStatus = 200;

    // What replay does before removing the letter; then the process "dies".
    const [letter] = await pipeline.deadLetters.list('a');
    const { eventId, type, lipsyncId, event: body } = letter!;
    await pipeline.fifo.handOff('a', replayToken(eventId, letter!.deadId), { eventId, type, lipsyncId, body });
    await t.receiver.waitFor(2, 5000);

    // The operator runs it again, from the CLI this time.
    const config = { webhooks: [{ ...endpoint('a', { maxAttempts: 1 }), disableAfterSeconds: 60 }], delivery: { retryScheduleSeconds: [0.05], concurrency: 1, maxDeadLetters: 10 } };
    expect(await DeadLetters.using({ config, keys: t.h.keys, redis: t.h.redis }, (letters) => letters.replay('a'))).toEqual({ replayed: 1, skipped: [] });
    // Idle means no event or job is left that could still deliver: a second copy would be recorded by now.
    await t.h.waitIdle(pipeline);
    expect(t.receiver.requests.map(webhookId)).toEqual([event!.id, event!.id]);
    expect(await pipeline.deadLetters.count()).toEqual({ a: 0 });
  });

  it('a 410 disables the endpoint: later events are dead-lettered unsent, and a replay re-enables it', async () => {
    const observer = new RecordingObserver();
    const pipeline = t.h.start([endpoint('a'), endpoint('b')], { observer });
    t.receiver.handler = (req) => (req.url === '/a' && t.receiver.requests.filter((r) => r.url === '/a').length === 1 ? { status: 410 } : undefined);
    const [first] = lipsyncEvents(1);
    await t.h.append([first!]);
    await waitUntil(async () => (await pipeline.deadLetters.count())['a'] === 1, 'the 410 dead letter', 5000);
    expect(Object.keys(await pipeline.deadLetters.disabled())).toEqual(['a']);
    expect(await pipeline.deadLetters.disabled()).toMatchObject({ a: { statusCode: 410, eventId: first!.id } });

    const later = lipsyncEvents(2);
    await t.h.append(later);
    await waitUntil(async () => (await pipeline.deadLetters.count())['a'] === 3, 'dead letters for the disabled endpoint', 5000);
    await t.h.waitIdle(pipeline);
    expect(requestsTo('a')).toHaveLength(1); // only the one that got the 410
    expect(requestsTo('b')).toHaveLength(3); // the other endpoint is unaffected
    const letters = await pipeline.deadLetters.list('a');
    expect(letters.map((l) => [l.eventId, l.error])).toEqual([
      [first!.id, 'HTTP 410'],
      [later[0]!.id, 'endpoint disabled'],
      [later[1]!.id, 'endpoint disabled'],
    ]);
    expect(observer.outcomes('a')).toEqual(['gone', 'dead_lettered', 'dead_lettered']);

    expect(await pipeline.deadLetters.replay('a')).toEqual({ replayed: 3, skipped: [] });
    expect(await pipeline.deadLetters.disabled()).toEqual({});
    await waitUntil(() => requestsTo('a').length >= 4, 'replayed deliveries', 5000);
    await t.h.waitIdle(pipeline);
    expect(requestsTo('a').slice(1).map(webhookId)).toEqual([first!.id, ...later.map((e) => e.id)]);
    expect(await pipeline.deadLetters.count()).toEqual({ a: 0 });
  });

  it('holds the deliveries of an endpoint removed from the config (nothing dropped) until it is configured again', async () => {
    const first = t.h.start([endpoint('back-soon', { maxAttempts: 1 })]);
    const events = lipsyncEvents(2);
    // One failure parks the head; then the process restarts with the endpoint removed.
    t.receiver.handler = () => ({ status: 503, delayMs: 300 });
    await t.h.append(events);
    await t.receiver.waitFor(1, 5000);
    await first.close(2000);
    t.receiver.handler = undefined;

    const second = t.h.start([endpoint('other')]);
    await waitUntil(async () => (await t.h.redis.xlen(t.h.keys.events)) === 0, 'the stream to be handed off', 5000);
    expect(t.receiver.requests).toHaveLength(1);
    expect(await t.h.redis.llen(t.h.keys.deliveryFifo('back-soon', events[0]!.data.lipsync_id))).toBe(1);
    expect(await second.deadLetters.count()).toEqual({ 'back-soon': 1 });
    expect((await second.snapshot()).queued).toEqual({ other: 0, 'back-soon': 1 });
    await second.close(2000);

    const third = t.h.start([endpoint('back-soon')]);
    await t.receiver.waitFor(2, 5000);
    await t.h.waitIdle(third);
    expect(t.receiver.requests.slice(1).map(webhookId)).toEqual([events[1]!.id]);
  });
});

describe('upgrade from the single webhook queue', () => {
  it('moves delivery jobs left in {prefix}-webhooks to their endpoint’s queue at start, and delivers them in order', async () => {
    const { Queue } = await import('bullmq');
    const events = lipsyncEvents(2);
    // What an older version left: a FIFO whose head's job sits in the one shared queue.
    const staged = t.h.create([endpoint('a')]);
    for (const ev of events) await staged.fifo.handOff('a', ev.id, { eventId: ev.id, type: ev.type, lipsyncId: ev.data.lipsync_id, body: JSON.stringify(ev) });
    const [job] = await staged.queues[0]!.getJobs(['waiting']);
    const legacy = new Queue(t.h.keys.webhookQueue, { connection: t.h.bull, prefix: t.h.keys.bullPrefix });
    try {
      await legacy.add(job!.name, job!.data, { jobId: job!.id! });
      await job!.remove();

      const pipeline = t.h.start([endpoint('a')]);
      await t.receiver.waitFor(2, 5000);
      await t.h.waitIdle(pipeline);
      expect(t.receiver.requests.map(webhookId)).toEqual(events.map((e) => e.id));
      expect(await legacy.getJobCounts('waiting', 'delayed')).toEqual({ waiting: 0, delayed: 0 });
    } finally {
      await legacy.close();
    }
  });
});
