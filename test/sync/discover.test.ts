import { pino } from 'pino';
import { DEFAULTS } from '../../src/config/schema.js';
import { CreatifyClient } from '../../src/creatify/client.js';
import { CreatifySimulator } from '../../src/simulator/server.js';
import { keysFor } from '../../src/store/keys.js';
import { TrackingStore } from '../../src/store/tracking.js';
import { discoverOnce, type DiscoverDeps } from '../../src/sync/discover.js';
import { terminalSet } from '../../src/shared/status.js';
import { uuid } from '../helpers/lipsync.js';
import { cleanupPrefix, newRedis, uniquePrefix } from '../helpers/redis.js';

const prefix = uniquePrefix('discover-once');
const keys = keysFor(prefix);
const redis = newRedis();
const store = new TrackingStore(redis, keys, 600);
const sim = new CreatifySimulator();
let client: CreatifyClient;

function deps(maxRemembered: number): DiscoverDeps {
  return { client, store, terminalStatuses: terminalSet(DEFAULTS.terminalStatuses), maxRemembered, logger: pino({ level: 'silent' }) };
}

beforeAll(async () => {
  client = new CreatifyClient({ baseUrl: await sim.start(), timeoutMs: 2000, retries: 0, maxResponseBytes: DEFAULTS.creatifyMaxResponseBytes });
});

beforeEach(async () => {
  sim.reset();
  await cleanupPrefix(prefix);
});

afterAll(async () => {
  client.close();
  await sim.stop();
  await cleanupPrefix(prefix);
  await redis.quit();
});

describe('discoverOnce', () => {
  it('tracks and remembers non-terminal ids in one step, and leaves remembered ones alone after an untrack', async () => {
    const [running, done, queued] = [uuid(1), uuid(2), uuid(3)];
    sim.set(running, { status: 'running' });
    sim.set(done, { status: 'done', progress: '1' });
    sim.set(queued, { status: 'in_queue' });
    expect(await discoverOnce(deps(100))).toEqual({ listed: 3, tracked: 2 });
    expect((await store.get(running))?.pending).toBe(true);
    expect(await store.get(done)).toBeNull();
    expect((await redis.zrange(keys.discovered, 0, -1)).sort()).toEqual([running, queued].sort());

    await store.untrack([running]);
    expect(await discoverOnce(deps(100))).toEqual({ listed: 3, tracked: 0 });
    expect((await store.get(running))?.pending).toBe(false);
  });

  it('keeps the discovered set at its cap, forgetting the ids listed longest ago first', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => uuid(100 + i));
    const t0 = 1_000_000;
    // Three runs, each listing two new ids at a later time; the cap of 4 must drop the first two.
    for (let run = 0; run < 3; run += 1) {
      const batch = ids.slice(run * 2, run * 2 + 2);
      expect([...(await store.trackDiscovered(batch, 4, t0 + run)).values()]).toEqual(['tracked', 'tracked']);
      expect(await store.discoveredCount()).toBe(Math.min(4, (run + 1) * 2));
    }
    expect((await redis.zrange(keys.discovered, 0, -1)).sort()).toEqual(ids.slice(2).sort());

    // An id listed again is refreshed, so it outlives ids that were listed once and not since.
    expect((await store.trackDiscovered([ids[2] as string], 4, t0 + 10)).get(ids[2] as string)).toBe('known');
    await store.trackDiscovered([uuid(200)], 4, t0 + 11);
    expect(await redis.zrange(keys.discovered, 0, -1)).toEqual([ids[4], ids[5], ids[2], uuid(200)]);
  });

  it('takes over the plain set older versions wrote, oldest first', async () => {
    const [old1, old2, fresh] = [uuid(300), uuid(301), uuid(302)];
    await redis.sadd(keys.discovered, old1, old2);
    const codes = await store.trackDiscovered([old1, fresh], 2, 5_000);
    expect(codes.get(old1)).toBe('known');
    expect(codes.get(fresh)).toBe('tracked');
    expect(await redis.type(keys.discovered)).toBe('zset');
    // old2 was never listed again: it goes first when the cap bites.
    expect((await redis.zrange(keys.discovered, 0, -1)).sort()).toEqual([old1, fresh].sort());
  });

  it('plain tracking neither reads nor writes the discovered set', async () => {
    await store.track([uuid(400)]);
    expect(await redis.exists(keys.discovered)).toBe(0);
  });
});
