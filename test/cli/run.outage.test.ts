/**
 * `lipsync-sync run` across a Redis outage, as a real process: every output line is JSON, the outage is one
 * story (one error line, one recovery line), /readyz and /healthz answer within 1 s during it, and SIGTERM with
 * Redis gone still exits within the shutdown grace — without losing an event, which the next worker delivers.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChangeEvent } from '../../src/events/types.js';
import { freePort, startPrivateRedis, type PrivateRedis } from '../../src/runtime/private-redis.js';
import { CreatifySimulator } from '../../src/simulator/server.js';
import { startCli } from '../helpers/cli.js';
import { uuid } from '../helpers/lipsync.js';
import { WebhookReceiver } from '../helpers/receiver.js';
import { waitUntil } from '../helpers/redis.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const GRACE_MS = 2000;
const dir = mkdtempSync(join(tmpdir(), 'lsync-outage-'));
const sim = new CreatifySimulator();
const receiver = new WebhookReceiver();
const children: ChildProcess[] = [];
let redis: PrivateRedis | null = null;
let redisPort = 0;
let creatifyUrl = '';
let hookUrl = '';

async function startRedis(): Promise<void> {
  // AOF in our own dir: a restart keeps tracked ids, states and queued work, as a real Redis with persistence would.
  redis = await startPrivateRedis({ port: redisPort, args: ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir] });
}

async function stopRedis(): Promise<void> {
  await redis?.stop();
  redis = null;
}

function worker(name: string, apiPort: number, graceMs = GRACE_MS): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({
    creatify: { baseUrl: creatifyUrl, apiId: 'id', apiKey: 'key', maxRequestsPerSecond: 50, retries: 0 },
    redis: { url: `redis://127.0.0.1:${redisPort}`, prefix: 'outage' },
    poll: { intervalMs: 300 },
    webhooks: [{ name: 'hook', url: hookUrl, secret: SECRET, retryScheduleSeconds: [0.2, 0.5, 1, 1, 1, 1, 1, 1] }],
    http: { port: apiPort, host: '127.0.0.1' },
    shutdown: { graceMs },
    log: { level: 'info' },
  }));
  const started = startCli(['run', '--config', file], {});
  children.push(started.child);
  const exited = new Promise<number | null>((resolve) => started.child.once('exit', (code) => resolve(code)));
  return { ...started, exited };
}

function lines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON log line: ${l}`);
      }
    });
}

async function timed(url: string): Promise<{ status: number; ms: number; body: string }> {
  const started = Date.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, ms: Date.now() - started, body: await res.text() };
}

function delivered(): ChangeEvent[] {
  return receiver.requests.map((r) => JSON.parse(r.body) as ChangeEvent);
}

beforeAll(async () => {
  redisPort = await freePort();
  [creatifyUrl, hookUrl] = await Promise.all([sim.start(), receiver.start(), startRedis()]);
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await stopRedis();
  await Promise.all([sim.stop(), receiver.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('run across a Redis outage', () => {
  it('tells the outage as one story in JSON lines, answers health checks within 1 s, stops within the grace, and loses no event', async () => {
    const apiPort = await freePort();
    const ids = Array.from({ length: 10 }, (_, i) => uuid(91_000 + i));
    ids.forEach((id) => sim.set(id, { status: 'running', progress: '0.5' }));
    const first = worker('first', apiPort);
    await waitUntil(() => first.output().includes('lipsync-sync running'), 'the worker to start', 15_000);
    const api = `http://127.0.0.1:${apiPort}`;
    const tracked = await fetch(`${api}/v1/lipsyncs`, { method: 'POST' });
    expect(tracked.status).toBe(403); // no API token configured: /v1 is closed; track through Redis instead
    const { TrackingStore } = await import('../../src/store/tracking.js');
    const { keysFor } = await import('../../src/store/keys.js');
    const { Redis } = await import('ioredis');
    const direct = new Redis(`redis://127.0.0.1:${redisPort}`);
    await new TrackingStore(direct, keysFor('outage'), 600).track(ids);
    direct.disconnect();
    await waitUntil(() => delivered().filter((e) => e.type === 'lipsync.tracked').length >= ids.length, 'tracked events', 15_000);

    await stopRedis();
    await waitUntil(() => first.output().includes('Redis unreachable'), 'the outage line', 10_000);
    const ready = await timed(`${api}/readyz`);
    const health = await timed(`${api}/healthz`);
    expect(ready).toMatchObject({ status: 503 });
    expect(ready.body).toMatch(/redis/);
    expect(ready.ms).toBeLessThan(1000); // answered from the known outage, not after a PING timeout
    expect(health).toMatchObject({ status: 200 });
    expect(health.ms).toBeLessThan(1000);
    // A few seconds of outage: reconnect attempts go on, the log stays quiet.
    await new Promise((r) => setTimeout(r, 3000));

    await startRedis();
    await waitUntil(() => first.output().includes('Redis is back'), 'the recovery line', 15_000);
    const story = lines(first.output());
    expect(story.filter((l) => l['msg'] === 'Redis unreachable; retrying until it is back')).toHaveLength(1);
    const errors = story.filter((l) => Number(l['level']) >= 50);
    if (errors.length > 3) throw new Error(`the outage took ${errors.length} error lines (at most 3 allowed):\n${errors.map((e) => JSON.stringify(e)).join('\n')}`);

    // Now the hard case: Redis gone at SIGTERM. The stop is bounded by the grace, and nothing is lost.
    await stopRedis();
    await waitUntil(() => first.output().split('Redis unreachable').length >= 3, 'the second outage line', 10_000);
    ids.forEach((id) => sim.set(id, { status: 'done', progress: '1' }));
    const stoppedAt = Date.now();
    first.child.kill('SIGTERM');
    const code = await first.exited;
    expect(Date.now() - stoppedAt).toBeLessThan(GRACE_MS + 3000);
    expect([0, 1]).toContain(code);
    const final = lines(first.output());
    if (code === 1) expect(final.some((l) => Array.isArray(l['abandoned']))).toBe(true);

    await startRedis();
    const second = worker('second', await freePort());
    await waitUntil(() => ids.every((id) => delivered().some((e) => e.type === 'lipsync.completed' && e.data.lipsync_id === id)), 'every completion after the restart (a delivery abandoned at the forced stop is retried once its 30 s BullMQ lock lapses)', 90_000);
    for (const id of ids) {
      const sequences = delivered().filter((e) => e.data.lipsync_id === id).map((e) => e.data.sequence);
      expect(sequences).toEqual([...sequences].sort((x, y) => x - y));
    }
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(() => lines(second.output())).not.toThrow();
    expect(readFileSync(join(dir, 'first.json'), 'utf8')).toContain('graceMs');
  }, 150_000);

  it('exits at once on a second signal while the first stop waits out its grace for Redis', async () => {
    const patient = worker('patient', await freePort(), 60_000);
    await waitUntil(() => patient.output().includes('lipsync-sync running'), 'the worker to start', 15_000);
    await stopRedis();
    try {
      await waitUntil(() => patient.output().includes('Redis unreachable'), 'the outage line', 10_000);
      patient.child.kill('SIGTERM');
      await waitUntil(() => patient.output().includes('shutting down'), 'the first stop to begin', 10_000);
      const second = Date.now();
      patient.child.kill('SIGINT');
      expect(await patient.exited).toBe(1);
      expect(Date.now() - second).toBeLessThan(5000); // not the 60 s grace
      expect(lines(patient.output()).some((l) => l['msg'] === 'second signal: exiting now')).toBe(true);
    } finally {
      await startRedis();
    }
  }, 60_000);
});
