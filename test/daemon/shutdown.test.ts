import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startDaemon } from '../../src/daemon.js';
import { CreatifySimulator } from '../../src/simulator/server.js';
import { uuid } from '../helpers/lipsync.js';
import { freePort, startPrivateRedis } from '../../src/runtime/private-redis.js';
import { keysFor } from '../../src/store/keys.js';
import { createRedis } from '../../src/store/redis.js';
import { TrackingStore } from '../../src/store/tracking.js';
import { cleanupPrefix, newRedis, REDIS_URL, uniquePrefix, waitUntil } from '../helpers/redis.js';
import { silentLogger, testConfig } from './helpers.js';

const prefix = uniquePrefix('shutdown');
const sim = new CreatifySimulator({ latencyMs: 800 });

afterAll(async () => {
  await sim.stop();
  await cleanupPrefix(prefix);
});

describe('graceful stop and cycle logging', () => {
  it('lets an in-flight batch finish and write its state before stop() resolves, logging one line per cycle', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) }));
    const ids = Array.from({ length: 30 }, (_, i) => uuid(900 + i));
    ids.forEach((id) => sim.set(id, { status: 'running', progress: '0.7' }));
    const daemon = await startDaemon(testConfig(REDIS_URL, prefix, { poll: { intervalMs: 300, batchSize: 10 } }), logger, { creatifyBaseUrl: await sim.start() });
    await daemon.store.track(ids);
    // All three batches in flight (the limiter spaces their starts a few ms apart), so the cycle can finish.
    await waitUntil(() => sim.requests.filter((r) => r.status === 0).length === 3, 'three requests to be in flight');
    const stopped = Date.now();
    await daemon.stop();
    // The answers arrive ~800 ms after the request: stop() waited for them instead of abandoning the batch.
    expect(Date.now() - stopped).toBeLessThan(10_000);
    const inFlight = sim.requests.filter((r) => r.status === 0).length;
    expect(inFlight).toBe(0);
    const answered = new Set(sim.requests.filter((r) => r.status === 200).flatMap((r) => r.ids ?? []));
    expect(answered.size).toBeGreaterThan(0);
    const redis = newRedis(); // the daemon's own connection is closed now
    try {
      const store = new TrackingStore(redis, keysFor(prefix), 600);
      for (const id of answered) expect((await store.get(id))?.status).toBe('running');
    } finally {
      redis.disconnect();
    }

    const cycles = lines.filter((l) => l['msg'] === 'poll cycle complete');
    expect(cycles.length).toBeGreaterThanOrEqual(1);
    expect(cycles[0]).toMatchObject({ ids: 30, requests: 3, events: 30 });
    // Never one line per id at info level.
    const text = JSON.stringify(lines);
    for (const id of ids) expect(text).not.toContain(id);
  });
});

describe('a start that fails after the HTTP server is up', () => {
  it('closes the server and every Redis connection it had opened before rejecting', async () => {
    // A Redis of its own: CLIENT LIST then shows only this test's connections.
    const own = await startPrivateRedis();
    const keys = keysFor('failed-start');
    const redis = createRedis(own.url);
    try {
      // A poll-queue key of the wrong type: the scheduler upsert, which runs after listen(), fails with WRONGTYPE.
      await redis.set(`${keys.bullPrefix}:${keys.pollQueue}:repeat`, 'not a sorted set');
      const port = await freePort();
      await expect(startDaemon(testConfig(own.url, 'failed-start', { http: { port, host: '127.0.0.1' } }), silentLogger, { creatifyBaseUrl: 'http://127.0.0.1:9' })).rejects.toThrow(/WRONGTYPE/);
      // The port is free again: the server was closed, not left listening.
      const probe = createServer();
      await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      // Every connection the daemon (and BullMQ for it) opened is gone: only this test's own remains.
      await waitUntil(async () => String(await redis.client('LIST')).trim().split('\n').length === 1, 'the daemon\'s Redis connections to close');
    } finally {
      redis.disconnect();
      await own.stop();
    }
  });
});
