import type { WebhookEndpoint } from '../../src/webhooks/deliver.js';
import { replayToken } from '../../src/webhooks/handoff.js';
import { replayDeadLetters } from '../../src/webhooks/replay.js';
import { verifyWebhook } from '../../src/webhooks/verify.js';
import { WebhookReceiver } from '../helpers/receiver.js';
import { waitUntil } from '../helpers/redis.js';
import { completedOnSight, lipsyncEvents, PipelineHarness, RecordingObserver, SECRET_A, SECRET_B, webhookId } from './fixtures/pipeline-harness.js';

let h: PipelineHarness;
let receiver: WebhookReceiver;
let url: string;

const endpoint = (name: string, extra: Partial<WebhookEndpoint> = {}): WebhookEndpoint => ({ name, url: `${url}/${name}`, secret: SECRET_A, ...extra });
const requestsTo = (name: string) => receiver.requests.filter((r) => r.url === `/${name}`);

beforeEach(async () => {
  h = new PipelineHarness('deliv');
  receiver = new WebhookReceiver();
  url = await receiver.start();
});

afterEach(async () => {
  await h.close();
  await receiver.stop();
});

describe('webhook pipeline delivery', () => {
  it('delivers one event to two endpoints, signed per endpoint, body = event JSON, webhook-id = event id', async () => {
    const pipeline = h.start([endpoint('a'), endpoint('b', { secret: SECRET_B })]);
    const [event] = lipsyncEvents(1);
    await h.append([event!]);

    await receiver.waitFor(2, 5000);
    await h.waitIdle(pipeline);
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
    const pending = (await h.redis.xpending(h.keys.events, pipeline.dispatcher.group)) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
  });

  it('delivers events appended before the first start', async () => {
    const events = lipsyncEvents(2);
    await h.append(events);
    const pipeline = h.start([endpoint('a')]);
    await receiver.waitFor(2, 5000);
    await h.waitIdle(pipeline);
    expect(receiver.requests.map(webhookId)).toEqual(events.map((e) => e.id));
  });

  it('sends an endpoint only the event types its filter names', async () => {
    const pipeline = h.start([endpoint('a', { events: ['lipsync.completed'] }), endpoint('b')]);
    const events = completedOnSight();
    expect(events.map((e) => e.type)).toEqual(['lipsync.tracked', 'lipsync.completed']);
    await h.append(events);

    await receiver.waitFor(3, 5000);
    // Idle means no event or job is left that could still deliver: every request has been recorded.
    await h.waitIdle(pipeline);
    expect(requestsTo('a').map((r) => JSON.parse(r.body).type)).toEqual(['lipsync.completed']);
    expect(requestsTo('b').map((r) => JSON.parse(r.body).type)).toEqual(['lipsync.tracked', 'lipsync.completed']);
  });

  it('retries until the receiver comes back, with the same webhook-id', async () => {
    const observer = new RecordingObserver();
    const pipeline = h.start([endpoint('a')], { observer });
    receiver.enqueue({ status: 503 }, { status: 503 });
    const [event] = lipsyncEvents(1);
    await h.append([event!]);

    await receiver.waitFor(3, 5000);
    await h.waitIdle(pipeline);
    expect(receiver.requests.map(webhookId)).toEqual([event!.id, event!.id, event!.id]);
    expect(observer.outcomes('a')).toEqual(['retry', 'retry', 'delivered']);
    expect(await pipeline.deadLetters.count()).toEqual({});
  });

  it('uses an endpoint’s own retryScheduleSeconds over delivery.retryScheduleSeconds, and its length for attempts', async () => {
    const observer = new RecordingObserver();
    const fast = endpoint('fast', { retryScheduleSeconds: [0.05, 0.05] });
    const pipeline = h.start([fast, endpoint('slow')], { observer, delivery: { retryScheduleSeconds: [60], concurrency: 4 } });
    receiver.handler = () => ({ status: 503 });
    const [event] = lipsyncEvents(1);
    await h.append([event!]);
    // fast: 3 attempts 50 ms apart, then dead-lettered; slow: 1 attempt, next one a minute away.
    await waitUntil(async () => ((await pipeline.deadLetters.count())['fast'] ?? 0) === 1, 'fast to dead-letter', 5000);
    expect(requestsTo('fast')).toHaveLength(3);
    expect(requestsTo('slow')).toHaveLength(1);
    expect(observer.outcomes('fast')).toEqual(['retry', 'retry', 'dead_lettered']);
  });

  it('waits as long as Retry-After asks when that is longer than the schedule', async () => {
    const pipeline = h.start([endpoint('a')]);
    receiver.enqueue({ status: 429, headers: { 'retry-after': '1' } });
    await h.append(lipsyncEvents(1));

    await receiver.waitFor(2, 5000);
    await h.waitIdle(pipeline);
    const [first, second] = receiver.requests;
    // The schedule alone would retry after 50 ms ± 20 %.
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
  });

  it('dead-letters after maxAttempts, and a replay delivers it and empties the list', async () => {
    const observer = new RecordingObserver();
    const pipeline = h.start([endpoint('a', { maxAttempts: 2 })], { observer });
    receiver.defaultStatus = 500;
    const [event] = lipsyncEvents(1);
    await h.append([event!]);

    await waitUntil(async () => (await pipeline.deadLetters.count())['a'] === 1, 'a dead letter', 5000);
    await h.waitIdle(pipeline);
    expect(receiver.requests).toHaveLength(2);
    expect(observer.outcomes('a')).toEqual(['retry', 'dead_lettered']);
    const [letter] = await pipeline.deadLetters.list('a');
    expect(letter).toMatchObject({ eventId: event!.id, endpoint: 'a', lipsyncId: event!.data.lipsync_id, event: JSON.stringify(event), error: 'HTTP 500', statusCode: 500, attempts: 2 });
    expect(Date.parse(letter!.deadAt)).not.toBeNaN();

    receiver.defaultStatus = 200;
    expect(await pipeline.deadLetters.replay()).toEqual({ replayed: 1, skipped: [] });
    await receiver.waitFor(3, 5000);
    await h.waitIdle(pipeline);
    const replayed = receiver.requests[2]!;
    expect(webhookId(replayed)).toBe(event!.id);
    expect(replayed.body).toBe(JSON.stringify(event));
    expect(() => verifyWebhook({ secret: SECRET_A, headers: replayed.headers, body: replayed.body })).not.toThrow();
    expect(await pipeline.deadLetters.count()).toEqual({ a: 0 });
    expect(await pipeline.deadLetters.list()).toEqual([]);
  });

  it('a replay that crashed after handing a letter off and is run again delivers it once (CLI entry point)', async () => {
    const pipeline = h.start([endpoint('a', { maxAttempts: 1 })]);
    receiver.defaultStatus = 500;
    const [event] = lipsyncEvents(1);
    await h.append([event!]);
    await waitUntil(async () => (await pipeline.deadLetters.count())['a'] === 1, 'a dead letter', 5000);
    receiver.defaultStatus = 200;

    // What replay does before removing the letter; then the process "dies".
    const [letter] = await pipeline.deadLetters.list('a');
    const { eventId, type, lipsyncId, event: body } = letter!;
    await pipeline.handoff.handOff('a', replayToken(eventId, letter!.deadId), { eventId, type, lipsyncId, body });
    await receiver.waitFor(2, 5000);

    // The operator runs it again, from the CLI this time.
    const config = { webhooks: [endpoint('a', { maxAttempts: 1 })], delivery: { retryScheduleSeconds: [0.05], concurrency: 1 } };
    expect(await replayDeadLetters({ config, keys: h.keys, redis: h.redis }, 'a')).toEqual({ replayed: 1, skipped: [] });
    // Idle means no event or job is left that could still deliver: a second copy would be recorded by now.
    await h.waitIdle(pipeline);
    expect(receiver.requests.map(webhookId)).toEqual([event!.id, event!.id]);
    expect(await pipeline.deadLetters.count()).toEqual({ a: 0 });
  });

  it('a 410 disables the endpoint: later events are dead-lettered unsent, and a replay re-enables it', async () => {
    const observer = new RecordingObserver();
    const pipeline = h.start([endpoint('a'), endpoint('b')], { observer });
    receiver.handler = (req) => (req.url === '/a' && receiver.requests.filter((r) => r.url === '/a').length === 1 ? { status: 410 } : undefined);
    const [first] = lipsyncEvents(1);
    await h.append([first!]);
    await waitUntil(async () => (await pipeline.deadLetters.count())['a'] === 1, 'the 410 dead letter', 5000);
    expect(Object.keys(await pipeline.deadLetters.disabled())).toEqual(['a']);
    expect(await pipeline.deadLetters.disabled()).toMatchObject({ a: { statusCode: 410, eventId: first!.id } });

    const later = lipsyncEvents(2);
    await h.append(later);
    await waitUntil(async () => (await pipeline.deadLetters.count())['a'] === 3, 'dead letters for the disabled endpoint', 5000);
    await h.waitIdle(pipeline);
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
    await h.waitIdle(pipeline);
    expect(requestsTo('a').slice(1).map(webhookId)).toEqual([first!.id, ...later.map((e) => e.id)]);
    expect(await pipeline.deadLetters.count()).toEqual({ a: 0 });
  });

  it('dead-letters deliveries of an endpoint removed from the config, and replay leaves them for unknown endpoints', async () => {
    const first = h.start([endpoint('gone-soon', { maxAttempts: 1 })]);
    const events = lipsyncEvents(2);
    // One failure parks the head; then the process restarts with the endpoint removed.
    receiver.handler = () => ({ status: 503, delayMs: 300 });
    await h.append(events);
    await receiver.waitFor(1, 5000);
    await first.close(2000);
    receiver.handler = undefined;

    const second = h.start([endpoint('other')]);
    await waitUntil(async () => (await second.deadLetters.count())['gone-soon'] === 2, 'dead letters of the removed endpoint', 5000);
    await h.waitIdle(second);
    const letters = await second.deadLetters.list('gone-soon');
    expect(letters.map((l) => l.eventId)).toEqual(events.map((e) => e.id));
    expect(letters[1]!.error).toBe('endpoint removed');
    expect(await second.deadLetters.replay()).toEqual({ replayed: 0, skipped: ['gone-soon'] });
    expect(await second.deadLetters.count()).toEqual({ 'gone-soon': 2 });
  });
});
