import { startDaemon, type Daemon } from '../../src/daemon.js';
import { CreatifySimulator } from '../../src/simulator/server.js';
import { uuid } from '../helpers/lipsync.js';
import { cleanupPrefix, REDIS_URL, uniquePrefix, waitUntil } from '../helpers/redis.js';
import { silentLogger, testConfig } from './helpers.js';

const prefix = uniquePrefix('ratelimit');
const sim = new CreatifySimulator();
const daemons: Daemon[] = [];

afterAll(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  await sim.stop();
  await cleanupPrefix(prefix);
});

describe('creatify.maxRequestsPerSecond', () => {
  it('bounds the request rate of two replicas together, not each', async () => {
    const config = testConfig(REDIS_URL, prefix, { creatify: { simulator: true, maxRequestsPerSecond: 5 }, poll: { intervalMs: 100, batchSize: 10 } });
    const baseUrl = await sim.start();
    const ids = Array.from({ length: 60 }, (_, i) => uuid(700 + i));
    ids.forEach((id) => sim.set(id, { status: 'running' }));
    daemons.push(...(await Promise.all([0, 1].map(() => startDaemon(config, silentLogger, { creatifyBaseUrl: baseUrl })))));
    await daemons[0]?.store.track(ids);
    const windowMs = 3000;
    // The limiter keeps requests coming: wait for one past the window, then the window is complete.
    await waitUntil(() => sim.requests.length > 0 && (sim.requests.at(-1)?.at ?? 0) >= (sim.requests[0]?.at ?? 0) + windowMs, 'requests spanning the window', 15_000);
    const first = sim.requests[0]?.at ?? 0;
    const inWindow = sim.requests.filter((r) => r.at >= first && r.at < first + windowMs).length;
    // The limiter spaces jobs 200 ms apart (limiterFor): at most 15 start in a 3 s span, one more for the
    // request still travelling from the job start to the simulator. Unlimited, 6 batches per 100 ms tick would be
    // well over 100 requests.
    expect(inWindow).toBeLessThanOrEqual(16);
    expect(inWindow).toBeGreaterThanOrEqual(10);
  });

  it('holds every replica off for a 429 Retry-After instead of retrying at the configured rate', async () => {
    // Creatify allows 3 requests a second here; the config claims 20. Without the hold-off the replicas would keep
    // sending 20 a second and draw 429s for most of them.
    const strict = new CreatifySimulator({ rateLimitPerSecond: 3 });
    const strictPrefix = uniquePrefix('ratelimit429');
    const config = testConfig(REDIS_URL, strictPrefix, { creatify: { simulator: true, maxRequestsPerSecond: 20 }, poll: { intervalMs: 200, batchSize: 10 } });
    const baseUrl = await strict.start();
    const replicas: Daemon[] = [];
    try {
      const ids = Array.from({ length: 40 }, (_, i) => uuid(900 + i));
      ids.forEach((id) => strict.set(id, { status: 'running' }));
      replicas.push(...(await Promise.all([0, 1].map(() => startDaemon(config, silentLogger, { creatifyBaseUrl: baseUrl })))));
      await replicas[0]?.store.track(ids);
      await waitUntil(() => strict.requests.some((r) => r.status === 429), 'a 429', 15_000);
      const firstRefusal = strict.requests.find((r) => r.status === 429)?.at ?? 0;
      await waitUntil(() => (strict.requests.at(-1)?.at ?? 0) >= firstRefusal + 4000, '4 s of requests after the first 429', 20_000);
      const after = strict.requests.filter((r) => r.at >= firstRefusal && r.at < firstRefusal + 4000);
      const refused = after.filter((r) => r.status === 429).length;
      // Hold-offs keep the pace near what Creatify allows (12 in 4 s), not the configured 80: each second about
      // 3 answered, then the requests already in their slots refused, then 1 s of silence.
      expect(after.length).toBeLessThanOrEqual(30);
      expect(after.length - refused).toBeGreaterThanOrEqual(6);
      // And every id still gets answered.
      await waitUntil(async () => (await Promise.all(ids.map((id) => replicas[0]!.store.get(id)))).every((r) => r?.status === 'running'), 'every id answered', 20_000);
    } finally {
      await Promise.all(replicas.map((d) => d.stop()));
      await strict.stop();
      await cleanupPrefix(strictPrefix);
    }
  }, 60_000);
});
