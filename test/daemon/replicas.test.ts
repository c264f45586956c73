import { startDaemon, type Daemon } from '../../src/daemon.js';
import type { ChangeEvent } from '../../src/events/types.js';
import { CreatifySimulator } from '../../src/simulator/server.js';
import { WebhookReceiver } from '../helpers/receiver.js';
import { uuid } from '../helpers/lipsync.js';
import { cleanupPrefix, REDIS_URL, uniquePrefix, waitUntil } from '../helpers/redis.js';
import { SECRET, silentLogger, testConfig } from './helpers.js';

const prefix = uniquePrefix('replicas');
const sim = new CreatifySimulator();
const receiver = new WebhookReceiver();
const daemons: Daemon[] = [];

afterAll(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  await Promise.all([sim.stop(), receiver.stop()]);
  await cleanupPrefix(prefix);
});

describe('several replicas on one Redis', () => {
  it('start concurrently with one scheduler, poll each id once per cycle, and deliver each event once', async () => {
    const [creatifyUrl, hookUrl] = await Promise.all([sim.start(), receiver.start()]);
    const config = testConfig(REDIS_URL, prefix, { webhooks: [{ name: 'ops', url: hookUrl, secret: SECRET }] });
    daemons.push(...(await Promise.all([0, 1, 2].map(() => startDaemon(config, silentLogger, { creatifyBaseUrl: creatifyUrl })))));
    const [first] = daemons as [Daemon];
    expect(await first.poll.queue.getJobSchedulers()).toHaveLength(1);

    const ids = Array.from({ length: 150 }, (_, i) => uuid(500 + i));
    ids.forEach((id) => sim.set(id, { status: 'running', progress: '0.5' }));
    await first.store.track(ids);
    await receiver.waitFor(150, 15_000);
    ids.forEach((id, i) => sim.set(id, i % 2 === 0 ? { status: 'done', progress: '1' } : { status: 'failed', failed_reason: 'audio too long' }));
    await waitUntil(async () => (await first.store.pendingCount()) === 0, 'all ids terminal', 15_000);
    // tracked + (status_changed + completed|failed) per id.
    await receiver.waitFor(450, 15_000);
    await new Promise((r) => setTimeout(r, 500)); // room for any duplicate to arrive
    const events = receiver.requests.map((r) => JSON.parse(r.body) as ChangeEvent);
    expect(events).toHaveLength(450);
    expect(new Set(events.map((e) => e.id)).size).toBe(450);
    expect(events.filter((e) => e.type === 'lipsync.failed')).toHaveLength(75);

    // No id was asked twice in the same cycle: every request's ids are disjoint within a window of one cycle.
    const perId = new Map<string, number>();
    sim.requests.forEach((r) => r.ids?.forEach((id) => perId.set(id, (perId.get(id) ?? 0) + 1)));
    const polls = [...perId.values()];
    expect(Math.max(...polls)).toBeLessThanOrEqual(Math.min(...polls) + 1);
  });
});
