import { startDaemon, type Daemon } from '../../src/daemon.js';
import { CreatifySimulator } from '../../src/simulator/server.js';
import { uuid } from '../helpers/lipsync.js';
import { parseExposition, valueOf } from '../helpers/prometheus.js';
import { cleanupPrefix, REDIS_URL, uniquePrefix, waitUntil } from '../helpers/redis.js';
import { silentLogger, testConfig } from './helpers.js';

const prefix = uniquePrefix('discover');
const sim = new CreatifySimulator();
let daemon: Daemon;

afterAll(async () => {
  await daemon.stop();
  await sim.stop();
  await cleanupPrefix(prefix);
});

describe('discovery (poll.discover: true)', () => {
  it('tracks the account’s non-terminal lipsyncs it has not seen, and not finished or deliberately untracked ones', async () => {
    const [running, queued, done, failed] = [uuid(1), uuid(2), uuid(3), uuid(4)];
    sim.set(running, { status: 'running' });
    sim.set(queued, { status: 'in_queue' });
    sim.set(done, { status: 'done', progress: '1' });
    sim.set(failed, { status: 'failed', failed_reason: 'x' });
    daemon = await startDaemon(testConfig(REDIS_URL, prefix, { poll: { intervalMs: 200, discover: true, discoverIntervalMs: 1000 } }), silentLogger, { creatifyBaseUrl: await sim.start() });

    await waitUntil(async () => (await daemon.store.get(queued))?.status === 'in_queue', 'discovered ids to be polled', 10_000);
    expect((await daemon.store.get(running))?.pending).toBe(true);
    expect(await daemon.store.get(done)).toBeNull();
    expect(await daemon.store.get(failed)).toBeNull();
    expect(sim.requests.some((r) => r.ids === null)).toBe(true);
    const exposition = parseExposition(await (await fetch(`${daemon.httpUrl}/metrics`)).text());
    expect(valueOf(exposition, 'lipsync_sync_discovered_ids')).toBe(2);

    await daemon.store.untrack([running]);
    const late = uuid(5);
    sim.set(late, { status: 'pending' });
    const listings = sim.requests.filter((r) => r.ids === null).length;
    await waitUntil(() => sim.requests.filter((r) => r.ids === null).length >= listings + 1, 'another discovery run', 5000);
    await waitUntil(async () => (await daemon.store.get(late))?.pending === true, 'a new lipsync to be discovered', 5000);
    expect((await daemon.store.get(running))?.pending).toBe(false);
  });
});
