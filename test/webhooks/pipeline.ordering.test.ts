import { Worker } from 'bullmq';
import { listDeadLetters } from '../../src/webhooks/dead-letters.js';
import { DeliveryQueue } from '../../src/webhooks/delivery-queue.js';
import { Dispatcher, type StreamEntry } from '../../src/webhooks/dispatcher.js';
import type { WebhookEndpoint } from '../../src/webhooks/deliver.js';
import { WebhookReceiver } from '../helpers/receiver.js';
import { waitUntil } from '../helpers/redis.js';
import { lipsyncEvents, PipelineHarness, sleep, webhookId } from './fixtures/pipeline-harness.js';

let h: PipelineHarness;
let receiver: WebhookReceiver;
let url: string;

const endpoint = (name: string, extra: Partial<WebhookEndpoint> = {}): WebhookEndpoint => ({ name, url: `${url}/${name}`, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', ...extra });

beforeEach(async () => {
  h = new PipelineHarness('order');
  receiver = new WebhookReceiver();
  url = await receiver.start();
});

afterEach(async () => {
  await h.close();
  await receiver.stop();
});

describe('webhook pipeline ordering', () => {
  it('delivers one lipsync in order while another is not held up by its retry', async () => {
    const pipeline = h.start([endpoint('a')]);
    const a = lipsyncEvents(5);
    const b = lipsyncEvents(5);
    const slowMs = 100;
    let failedOnce = false;
    receiver.handler = (req) => {
      if (!failedOnce && webhookId(req) === a[0]!.id) {
        failedOnce = true;
        // Parks A's head for 2 s: long enough for all of B to go through if B is not queued behind A.
        return { status: 503, headers: { 'retry-after': '2' }, delayMs: slowMs };
      }
      return { status: 200, delayMs: slowMs };
    };
    // Interleaved, as two lipsyncs changing in the same poll cycles would be.
    await h.append(a.flatMap((ev, i) => [ev, b[i]!]));

    await receiver.waitFor(11, 10_000);
    await h.waitIdle(pipeline);
    const ids = receiver.requests.map(webhookId);
    const aIds = a.map((e) => e.id);
    const bIds = b.map((e) => e.id);
    expect(ids.filter((id) => aIds.includes(id))).toEqual([aIds[0], ...aIds]);
    expect(ids.filter((id) => bIds.includes(id))).toEqual(bIds);
    // Not held up: every B event arrived before A's head was retried.
    const aRetryAt = receiver.requests.filter((r) => webhookId(r) === aIds[0])[1]!.receivedAt;
    for (const r of receiver.requests.filter((req) => bIds.includes(webhookId(req)))) expect(r.receivedAt).toBeLessThan(aRetryAt);
    // One at a time per lipsync: each request of A arrives after the previous one was answered.
    const aTimes = receiver.requests.filter((r) => aIds.includes(webhookId(r))).map((r) => r.receivedAt);
    for (let i = 1; i < aTimes.length; i += 1) expect(aTimes[i]! - aTimes[i - 1]!).toBeGreaterThanOrEqual(slowMs - 5);
  });

  it('delivers once when a stream entry is handed off twice (read, crash before XACK, reclaimed)', async () => {
    const { redis, keys, bull, logger } = h;
    const delivery = new DeliveryQueue({ connection: bull, redis, keys, endpoints: [endpoint('a')], retryScheduleSeconds: [0.05], concurrency: 4, logger });
    const dispatcher = new Dispatcher({ redis, keys, endpoints: [endpoint('a')], handoff: delivery.handoff, logger, consumer: 'survivor' });
    try {
      const events = lipsyncEvents(2);
      await h.append(events);
      await dispatcher.ensureGroup();
      // A consumer reads and hands off, then dies before acknowledging.
      const reply = (await redis.xreadgroup('GROUP', dispatcher.group, 'crashed', 'COUNT', 10, 'STREAMS', keys.events, '>')) as Array<[string, Array<[string, string[]]>]>;
      const entries: StreamEntry[] = reply[0]![1].map(([streamId, flat]) => ({ streamId, fields: Object.fromEntries(pairs(flat)) }));
      expect(entries).toHaveLength(2);
      const crashed = new Dispatcher({ redis, keys, endpoints: [endpoint('a')], handoff: delivery.handoff, logger, consumer: 'crashed' });
      await crashed.handOff(entries);
      await crashed.close();

      // Another consumer claims the entries (0 ms idle instead of 30 s) and hands them off again.
      expect(await dispatcher.claimStale(0)).toBe(2);
      delivery.start();
      await receiver.waitFor(2, 5000);
      await waitDrained();
      await sleep(300);
      expect(receiver.requests.map(webhookId)).toEqual(events.map((e) => e.id));
      const pending = (await redis.xpending(keys.events, dispatcher.group)) as [number, ...unknown[]];
      expect(pending[0]).toBe(0);
      expect(await redis.xlen(keys.events)).toBe(0);
    } finally {
      await dispatcher.close();
      await delivery.close(2000);
    }

    async function waitDrained(): Promise<void> {
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        const counts = await delivery.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        const fifos = await redis.keys(keys.deliveryFifo('*', '*'));
        if (Object.values(counts).every((n) => n === 0) && fifos.length === 0) return;
        await sleep(25);
      }
      throw new Error('deliveries did not drain within 5 s');
    }
  });

  it('dead-letters a delivery whose job BullMQ failed (e.g. stalled too often), and its FIFO moves on', async () => {
    const { redis, keys, bull, logger } = h;
    const endpoints = [endpoint('a', { maxAttempts: 1 })];
    const delivery = new DeliveryQueue({ connection: bull, redis, keys, endpoints, retryScheduleSeconds: [0.05], concurrency: 4, logger, sweepIntervalMs: 60_000 });
    const dispatcher = new Dispatcher({ redis, keys, endpoints, handoff: delivery.handoff, logger });
    // Stands in for whatever failed the job outside our processor: it fails every job it takes.
    const breaker = new Worker(keys.webhookQueue, async () => Promise.reject(new Error('job stalled more than allowable limit')), { connection: bull, prefix: keys.bullPrefix });
    try {
      const events = lipsyncEvents(2);
      await h.append(events);
      await dispatcher.dispatchOnce(0);
      await waitUntil(async () => (await delivery.queue.getJobCounts('failed'))['failed'] === 1, 'the head job to fail', 5000);
      await breaker.close();

      delivery.start(); // sweeps at start
      await receiver.waitFor(1, 5000);
      await waitUntil(async () => (await redis.llen(keys.deliveryFifo('a', events[0]!.data.lipsync_id))) === 0, 'the FIFO to drain', 5000);
      expect(receiver.requests.map(webhookId)).toEqual([events[1]!.id]);
      const letters = await listDeadLetters({ redis, keys }, 'a');
      expect(letters.map((l) => [l.eventId, l.error])).toEqual([[events[0]!.id, 'job failed: job stalled more than allowable limit']]);
      expect(await delivery.queue.getJobCounts('failed')).toEqual({ failed: 0 });
    } finally {
      await breaker.close();
      await dispatcher.close();
      await delivery.close(2000);
    }
  });
});

function pairs(flat: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}
