import { startDaemon, type Daemon } from '../../src/daemon.js';
import { CreatifySimulator } from '../../src/simulator/server.js';
import { uuid } from '../helpers/lipsync.js';
import { parseExposition, valueOf } from '../helpers/prometheus.js';
import { cleanupPrefix, REDIS_URL, uniquePrefix, waitUntil } from '../helpers/redis.js';
import { silentLogger, testConfig } from './helpers.js';

const prefix = uniquePrefix('oversized');
const sim = new CreatifySimulator();
let daemon: Daemon;

afterAll(async () => {
  await daemon.stop();
  await sim.stop();
  await cleanupPrefix(prefix);
});

async function oversizedTotal(): Promise<number | undefined> {
  return valueOf(parseExposition(await (await fetch(`${daemon.httpUrl}/metrics`)).text()), 'lipsync_sync_creatify_oversized_responses_total');
}

describe('a Creatify answer over creatify.maxResponseBytes', () => {
  it('is counted by creatify_oversized_responses_total while polling goes on with the next answer', async () => {
    const id = uuid(1);
    sim.set(id, { status: 'running' });
    sim.enqueueResponse({ status: 200, body: `[${' '.repeat(8 * 1024)}]` });
    daemon = await startDaemon(testConfig(REDIS_URL, prefix, { creatify: { simulator: true, maxRequestsPerSecond: 100, maxResponseBytes: 4096 } }), silentLogger, { creatifyBaseUrl: await sim.start() });
    await daemon.store.track([id]);
    await waitUntil(async () => (await oversizedTotal()) === 1, 'the oversized answer to be counted');
    await waitUntil(async () => (await daemon.store.get(id))?.status === 'running', 'the next, normal answer to be applied');
  });
});
