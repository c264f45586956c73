import { startDaemon, type Daemon } from '../../src/daemon.js';
import { startPrivateRedis, type PrivateRedis } from '../../src/runtime/private-redis.js';
import { CreatifySimulator } from '../../src/simulator/server.js';
import { waitUntil } from '../helpers/redis.js';
import { silentLogger, testConfig } from './helpers.js';

// Stopping Redis must not touch the shared one: this file runs its own redis-server.
let redis: PrivateRedis;
const sim = new CreatifySimulator();
let daemon: Daemon;

async function readyStatus(): Promise<number> {
  const res = await fetch(`${daemon.httpUrl}/readyz`, { signal: AbortSignal.timeout(5000) });
  return res.status;
}

beforeAll(async () => {
  redis = await startPrivateRedis();
  daemon = await startDaemon(testConfig(redis.url, 'ready'), silentLogger, { creatifyBaseUrl: await sim.start() });
});

afterAll(async () => {
  await daemon.stop();
  await sim.stop();
  await redis.stop();
});

describe('/readyz follows Redis', () => {
  it('flips to 503 with a reason when Redis stops, and back to 200 when it returns', async () => {
    await waitUntil(async () => (await readyStatus()) === 200, 'ready at start');
    const port = Number(new URL(redis.url).port);
    await redis.stop();
    await waitUntil(async () => (await readyStatus()) === 503, 'not ready without Redis');
    const body = (await (await fetch(`${daemon.httpUrl}/readyz`)).json()) as { checks: { redis: { ok: boolean; detail: string } } };
    expect(body.checks.redis).toMatchObject({ ok: false, detail: expect.any(String) });
    expect((await fetch(`${daemon.httpUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${daemon.httpUrl}/metrics`)).status).toBe(200);
    redis = await startPrivateRedis({ port });
    // A fresh Redis lost the scheduler and poll time: the daemon re-creates the scheduler by itself.
    await waitUntil(async () => (await readyStatus()) === 200, 'ready again after Redis returned', 15_000);
  });
});

describe('/readyz reports answers it could not apply', () => {
  it('stays 200 (degraded) and counts tracked lipsyncs whose answer is unreadable', async () => {
    const id = '6f1e2d3c-4b5a-4978-8877-665544332211';
    sim.set(id, { status: 'running' });
    sim.setMalformed(id, (obj) => {
      delete obj['status'];
    });
    await daemon.store.track([id]);
    const body = await waitUntil(async () => {
      const res = await fetch(`${daemon.httpUrl}/readyz`, { signal: AbortSignal.timeout(5000) });
      const json = (await res.json()) as { checks: Record<string, { ok: boolean; blocking?: boolean; detail?: string }> };
      return res.status === 200 && json.checks['answers']?.ok === false ? json : null;
    }, 'the unreadable answer to show in readiness');
    expect(body.checks['answers']).toMatchObject({ ok: false, blocking: false, detail: expect.stringMatching(/^1 tracked lipsyncs answered unreadably/) });
    expect((await daemon.store.get(id))?.unreadable?.detail).toMatch(/status/);
  });
});
