import { startDaemon, type Daemon } from '../../src/daemon.js';
import { CreatifySimulator } from '../../src/simulator/server.js';
import { WebhookReceiver } from '../helpers/receiver.js';
import { uuid } from '../helpers/lipsync.js';
import { parseExposition, valueOf, type Family } from '../helpers/prometheus.js';
import { cleanupPrefix, REDIS_URL, uniquePrefix, waitUntil } from '../helpers/redis.js';
import { SECRET, silentLogger, testConfig } from './helpers.js';

const prefix = uniquePrefix('dmetrics');
const sim = new CreatifySimulator();
const receiver = new WebhookReceiver();
let daemon: Daemon;
const P = 'lipsync_sync_';

async function scrape(): Promise<Family[]> {
  const res = await fetch(`${daemon.httpUrl}/metrics`);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return parseExposition(await res.text());
}

beforeAll(async () => {
  const [creatifyUrl, hookUrl] = await Promise.all([sim.start(), receiver.start()]);
  daemon = await startDaemon(testConfig(REDIS_URL, prefix, { webhooks: [{ name: 'ops', url: hookUrl, secret: SECRET }] }), silentLogger, { creatifyBaseUrl: creatifyUrl });
});

afterAll(async () => {
  await daemon.stop();
  await Promise.all([sim.stop(), receiver.stop()]);
  await cleanupPrefix(prefix);
});

describe('/metrics after simulated cycles', () => {
  it('counts transitions, events, failures, requests, deliveries, and reports tracked lipsyncs by status', async () => {
    const [running, failed, done] = [uuid(1), uuid(2), uuid(3)];
    sim.set(running, { status: 'running', progress: '0.2' });
    sim.set(failed, { status: 'running', progress: '0.5' });
    sim.set(done, { status: 'in_queue' });
    await daemon.store.track([running, failed, done]);
    await waitUntil(async () => (await daemon.store.get(done))?.status === 'in_queue', 'first sighting');
    sim.set(failed, { status: 'failed', failed_reason: 'No face detected in the video' });
    sim.set(done, { status: 'done', progress: '1' });
    await waitUntil(async () => (await daemon.store.pendingCount()) === 1, 'terminal ids to leave the pending set');
    // 3 tracked + (status_changed + failed) + (status_changed + completed) = 7 deliveries.
    await receiver.waitFor(7, 10_000);

    const m = await scrape();
    expect(valueOf(m, `${P}transitions_total`, { from: 'none', to: 'running' })).toBe(2);
    expect(valueOf(m, `${P}transitions_total`, { from: 'none', to: 'in_queue' })).toBe(1);
    expect(valueOf(m, `${P}transitions_total`, { from: 'running', to: 'failed' })).toBe(1);
    expect(valueOf(m, `${P}transitions_total`, { from: 'in_queue', to: 'done' })).toBe(1);
    expect(valueOf(m, `${P}events_total`, { type: 'lipsync.tracked' })).toBe(3);
    expect(valueOf(m, `${P}events_total`, { type: 'lipsync.failed' })).toBe(1);
    expect(valueOf(m, `${P}events_total`, { type: 'lipsync.completed' })).toBe(1);
    expect(valueOf(m, `${P}failures_total`, { reason_class: 'face_not_detected' })).toBe(1);
    expect(valueOf(m, `${P}tracked_lipsyncs`, { status: 'running' })).toBe(1);
    // Terminal ids leave the set; the series stays at 0 rather than vanishing.
    expect(valueOf(m, `${P}tracked_lipsyncs`, { status: 'failed' })).toBe(0);
    expect(valueOf(m, `${P}creatify_requests_total`, { code: '200' })).toBeGreaterThanOrEqual(2);
    expect(valueOf(m, `${P}polls_total`, { outcome: 'ok' })).toBeGreaterThanOrEqual(2);
    expect(valueOf(m, `${P}webhook_deliveries_total`, { endpoint: 'ops', outcome: 'delivered' })).toBe(7);
    expect(valueOf(m, `${P}webhook_dead_letters`, { endpoint: 'ops' })).toBe(0);
    expect(valueOf(m, `${P}last_successful_poll_timestamp_seconds`)).toBeGreaterThan(Date.now() / 1000 - 10);
    const text = await (await fetch(`${daemon.httpUrl}/metrics`)).text();
    for (const id of [running, failed, done]) expect(text).not.toContain(id);
  });

  it('is ready while polling, with every check named', async () => {
    const res = await fetch(`${daemon.httpUrl}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', checks: { redis: { ok: true }, eviction: { ok: true, detail: 'maxmemory-policy noeviction' }, scheduler: { ok: true }, poll: { ok: true }, answers: { ok: true, detail: '0 unreadable' } } });
  });
});
