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
});
