import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { startPrivateRedis, type PrivateRedis } from '../../src/runtime/private-redis.js';
import { CreatifySimulator } from '../../src/simulator/server.js';
import { uuid } from '../helpers/lipsync.js';
import { Redis } from 'ioredis';
import { SCHEDULER_ID } from '../../src/sync/poll-queue.js';
import { parseExposition, valueOf } from '../helpers/prometheus.js';
import { waitUntil } from '../helpers/redis.js';
import { testConfig } from './helpers.js';

// FLUSHALL must not touch the shared Redis: this file runs its own redis-server.
let redis: PrivateRedis;
const sim = new CreatifySimulator();
let daemon: Daemon;
const lines: Array<{ level: number; msg: string }> = [];

beforeAll(async () => {
  redis = await startPrivateRedis();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(text) as { level: number; msg: string });
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  daemon = await startDaemon(testConfig(redis.url, 'loss'), logger, { creatifyBaseUrl: await sim.start() });
});

afterAll(async () => {
  await daemon.stop();
  await sim.stop();
  await redis.stop();
});

async function readiness(): Promise<{ status: number; body: { status: string; checks: Record<string, { ok: boolean; detail?: string; blocking?: boolean }> } }> {
  const res = await fetch(`${daemon.httpUrl}/readyz`);
  return { status: res.status, body: (await res.json()) as never };
}

async function dataLostTotal(): Promise<number | undefined> {
  return valueOf(parseExposition(await (await fetch(`${daemon.httpUrl}/metrics`)).text()), 'lipsync_sync_redis_data_lost_total');
}

describe('a Redis that comes back empty', () => {
  it('is logged at error, counted, and shown by readiness instead of looking idle and healthy', async () => {
    const id = uuid(1);
    sim.set(id, { status: 'running' });
    await daemon.store.track([id]);
    await waitUntil(async () => (await readiness()).body.status === 'ready', 'ready before the flush');
    expect(await dataLostTotal()).toBe(0);

    const admin = new Redis(redis.url);
    try {
      await admin.flushall();
    } finally {
      admin.disconnect();
    }

    // Right after the flush the scheduler is gone too (503) until the daemon re-creates it; then the replica works
    // on (200), and the loss stays reported rather than hidden.
    const after = await waitUntil(async () => {
      const r = await readiness();
      return r.body.checks['redis_data'] && r.status === 200 ? r : null;
    }, 'readiness to report the loss once healed');
    expect(after.body.status).toBe('degraded');
    expect(after.body.checks['redis_data']).toMatchObject({ ok: false, blocking: false, detail: expect.stringMatching(/^Redis came back without our data at \d{4}-.*re-track them/) });
    expect(await dataLostTotal()).toBe(1);
    const errors = lines.filter((l) => l.level === 50 && /Redis came back without our data/.test(l.msg));
    expect(errors).toHaveLength(1);

    // Reported once: the epoch was re-written, later checks find it again.
    expect(await daemon.partitions[0]!.poll.queue.getJobScheduler(SCHEDULER_ID)).toBeDefined();
    await readiness();
    expect(await dataLostTotal()).toBe(1);
    expect(lines.filter((l) => l.level === 50 && /Redis came back without our data/.test(l.msg))).toHaveLength(1);
  });
});
