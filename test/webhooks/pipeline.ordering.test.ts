import { Worker } from 'bullmq';
import type { StreamEntry } from '../../src/webhooks/dispatcher.js';
import { deliveryJobId } from '../../src/webhooks/fifo.js';
import type { WebhookEndpoint } from '../../src/webhooks/deliver.js';
import { WebhookReceiver, type RecordedRequest } from '../helpers/receiver.js';
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

  it('promotes a parked next delivery when its turn comes, instead of leaving it to its turn wait', async () => {
    const pipeline = h.create([endpoint('a')]);
    const events = lipsyncEvents(2);
    const payload = (i: number) => ({ eventId: events[i]!.id, type: events[i]!.type, lipsyncId: events[i]!.data.lipsync_id, body: JSON.stringify(events[i]) });
    for (const i of [0, 1]) await pipeline.fifo.handOff('a', events[i]!.id, payload(i));
    // The second element gets its job early (as after a crash) and old, so a turn check parks it for the longest wait (2 s).
    const queue = pipeline.queues[0]!;
    const [headJob] = await queue.getJobs(['waiting']);
    await queue.add(headJob!.name, { ...payload(1), endpoint: 'a', token: events[1]!.id }, { ...headJob!.opts, jobId: deliveryJobId(events[1]!.id, 'a'), timestamp: Date.now() - 60_000 });
    receiver.handler = (req) => ({ status: 200, delayMs: webhookId(req) === events[0]!.id ? 500 : 0 });
    pipeline.start();
    // While the head is in flight, the second job checks its turn and is parked.
    await waitUntil(async () => (await h.redis.zscore(h.keys.deliveryParked('a'), events[1]!.id)) !== null, 'the second delivery to be parked', 2000);
    await receiver.waitFor(2, 5000);
    await h.waitIdle(pipeline);
    expect(receiver.requests.map(webhookId)).toEqual(events.map((e) => e.id));
    // Answered about 500 ms after the first request: promoted by the head's finish, not after its 2 s wait.
    expect(receiver.requests[1]!.receivedAt - receiver.requests[0]!.receivedAt).toBeLessThan(1500);
    expect(await h.redis.zcard(h.keys.deliveryParked('a'))).toBe(0);
  });

  it('delivers once when a stream entry is handed off twice (read, crash before XACK, reclaimed)', async () => {
    const { redis, keys } = h;
    const pipeline = h.create([endpoint('a')], { consumer: 'survivor' });
    const { dispatcher } = pipeline;
    const events = lipsyncEvents(2);
    await h.append(events);
    await dispatcher.ensureGroup();
    // A consumer reads and hands off, then dies before acknowledging.
    const entries = await readAs(dispatcher.group, 'crashed', 10);
    expect(entries).toHaveLength(2);
    const crashed = h.create([endpoint('a')], { consumer: 'crashed' }).dispatcher;
    expect(await crashed.handOff(entries)).toHaveLength(2);

    // Another consumer claims the entries (0 ms idle instead of 30 s) and hands them off again.
    expect(await dispatcher.claimStale(0)).toBe(2);
    pipeline.start();
    await receiver.waitFor(2, 5000);
    await h.waitIdle(pipeline);
    await sleep(300);
    expect(receiver.requests.map(webhookId)).toEqual(events.map((e) => e.id));
    const pending = (await redis.xpending(keys.events, dispatcher.group)) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
    expect(await redis.xlen(keys.events)).toBe(0);
  });

  it('keeps sequence order when a dead consumer’s earlier entry is reclaimed after later ones were read', async () => {
    const pipeline = h.create([endpoint('a')], { consumer: 'survivor' });
    const { dispatcher } = pipeline;
    const events = lipsyncEvents(3);
    await h.append(events);
    await dispatcher.ensureGroup();
    // The dead consumer read the first event and never handed it off.
    expect(await readAs(dispatcher.group, 'dead', 1)).toHaveLength(1);
    pipeline.start();
    // The survivor reads the later two but must not hand them off before the first.
    await waitUntil(async () => (await h.redis.xpending(h.keys.events, dispatcher.group, '-', '+', 10, 'survivor')).length === 2, 'the survivor to hold the later entries', 5000);
    await sleep(300);
    expect(receiver.requests).toHaveLength(0);

    // At 0 ms idle the survivor's own two come along with the dead one's: all three go, in stream order.
    expect(await dispatcher.claimStale(0)).toBe(3);
    await receiver.waitFor(3, 5000);
    await h.waitIdle(pipeline);
    expect(receiver.requests.map(webhookId)).toEqual(events.map((e) => e.id));
    expect(receiver.requests.map(sequenceOf)).toEqual(events.map((e) => e.data.sequence));
  });

  it('keeps sequence order when an earlier entry’s hand-off failed and is retried by its reader', async () => {
    const reader = h.create([endpoint('a')], { consumer: 'reader' }).dispatcher;
    const other = h.create([endpoint('a')], { consumer: 'other' });
    const events = lipsyncEvents(2);
    await h.append(events);
    await reader.ensureGroup();
    // `reader` got the first entry, and its hand-off failed: the entry stays in its pending list.
    expect(await readAs(reader.group, 'reader', 1)).toHaveLength(1);
    other.workers.start();
    expect(await other.dispatcher.dispatchOnce(0)).toBe(0); // the second waits for the first
    await sleep(200);
    expect(receiver.requests).toHaveLength(0);

    expect(await reader.dispatchOnce(0)).toBe(1); // re-reads its own pending entry first
    expect(await other.dispatcher.dispatchOnce(0)).toBe(1);
    await receiver.waitFor(2, 5000);
    await h.waitIdle(other);
    expect(receiver.requests.map(webhookId)).toEqual(events.map((e) => e.id));
  });

  it('delivers bursts in sequence order per lipsync and endpoint while 3 replicas dispatch at once', async () => {
    const endpoints = [endpoint('a'), endpoint('b')];
    // Small reads so consecutive events of one lipsync land on different replicas.
    const replicas = [1, 2, 3].map((n) => {
      const replica = h.create(endpoints, { blockMs: 100, consumer: `replica-${n}`, count: 3 });
      // Replicas on different machines hand off at different speeds: 0-20 ms more per hand-off round, at random.
      const handOffMany = replica.fifo.handOffMany.bind(replica.fifo);
      replica.fifo.handOffMany = async (...args) => {
        await sleep(Math.floor(Math.random() * 20));
        return handOffMany(...args);
      };
      replica.start();
      return replica;
    });
    receiver.handler = () => ({ status: 200, delayMs: Math.floor(Math.random() * 5) });
    const lipsyncs = Array.from({ length: 12 }, () => lipsyncEvents(6));
    // Three bursts: each appends two changes of every lipsync, interleaved across lipsyncs.
    for (let burst = 0; burst < 3; burst += 1) {
      await h.append(lipsyncs.flatMap((events) => events.slice(burst * 2, burst * 2 + 2)));
      await sleep(50);
    }
    const total = lipsyncs.length * 6 * endpoints.length;
    await receiver.waitFor(total, 20_000);
    for (const replica of replicas) await h.waitIdle(replica, 10_000);
    expect(receiver.requests).toHaveLength(total);
    for (const events of lipsyncs) {
      const ids = events.map((e) => e.id);
      for (const name of ['a', 'b']) {
        const got = receiver.requests.filter((r) => r.url === `/${name}` && ids.includes(webhookId(r)));
        expect(got.map(webhookId)).toEqual(ids);
        const sequences = got.map(sequenceOf);
        expect([...sequences].sort((x, y) => x - y)).toEqual(sequences);
      }
    }
  });

  it('dead-letters a delivery whose job BullMQ failed (e.g. stalled too often), and its FIFO moves on', async () => {
    const { redis, keys, bull } = h;
    const endpoints = [endpoint('a', { maxAttempts: 1 })];
    const pipeline = h.create(endpoints, { sweepIntervalMs: 60_000 });
    // Stands in for whatever failed the job outside our processor: it fails every job it takes.
    const breaker = new Worker(keys.webhookEndpointQueue('a'), async () => Promise.reject(new Error('job stalled more than allowable limit')), { connection: bull, prefix: keys.bullPrefix });
    try {
      const events = lipsyncEvents(2);
      await h.append(events);
      await pipeline.dispatcher.dispatchOnce(0);
      await waitUntil(async () => (await pipeline.queues[0]!.getJobCounts('failed'))['failed'] === 1, 'the head job to fail', 5000);
      await breaker.close();

      pipeline.workers.start(); // sweeps at start
      await receiver.waitFor(1, 5000);
      await waitUntil(async () => (await redis.llen(keys.deliveryFifo('a', events[0]!.data.lipsync_id))) === 0, 'the FIFO to drain', 5000);
      expect(receiver.requests.map(webhookId)).toEqual([events[1]!.id]);
      const letters = await pipeline.deadLetters.list('a');
      expect(letters.map((l) => [l.eventId, l.error])).toEqual([[events[0]!.id, 'job failed: job stalled more than allowable limit']]);
      expect(await pipeline.queues[0]!.getJobCounts('failed')).toEqual({ failed: 0 });
    } finally {
      await breaker.close();
    }
  });
});

/** Reads up to `count` new entries as consumer `consumer`, as a replica that then dies would. */
async function readAs(group: string, consumer: string, count: number): Promise<StreamEntry[]> {
  const reply = (await h.redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', h.keys.events, '>')) as Array<[string, Array<[string, string[]]>]> | null;
  return (reply?.[0]?.[1] ?? []).map(([streamId, flat]) => ({ streamId, fields: Object.fromEntries(pairs(flat)) }));
}

function sequenceOf(req: RecordedRequest): number {
  return (JSON.parse(req.body) as { data: { sequence: number } }).data.sequence;
}

function pairs(flat: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}
