import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreatifySimulator } from '../../src/simulator/server.js';
import { runCli, startCli } from '../helpers/cli.js';
import { uuid } from '../helpers/lipsync.js';
import { keysFor } from '../../src/store/keys.js';
import { cleanupPrefix, newRedis, REDIS_URL, uniquePrefix, waitUntil } from '../helpers/redis.js';

const prefix = uniquePrefix('cli');
const env = { REDIS_URL, LIPSYNC_SYNC_PREFIX: prefix, CREATIFY_API_ID: 'cli-id', CREATIFY_API_KEY: 'cli-secret-key-value', LOG_LEVEL: 'warn' };
const sim = new CreatifySimulator({ apiId: 'cli-id', apiKey: 'cli-secret-key-value' });

beforeAll(async () => {
  await sim.start();
});

afterAll(async () => {
  await sim.stop();
  await cleanupPrefix(prefix);
});

describe('lipsync-sync CLI (built binary)', () => {
  it('prints help for the tool and for every command, exit 0', async () => {
    const main = await runCli(['--help'], env);
    expect(main.code).toBe(0);
    expect(main.stdout).toMatch(/Commands:[\s\S]*replay-dead-letters/);
    for (const command of ['run', 'track', 'untrack', 'status', 'list', 'replay-dead-letters', 'demo', 'secret']) {
      const res = await runCli([command, '--help'], env);
      expect([command, res.code, res.stdout.startsWith('Usage: lipsync-sync')]).toEqual([command, 0, true]);
    }
  });

  it('rejects an unknown command and an unknown flag with exit 2 and one line', async () => {
    const unknown = await runCli(['frobnicate'], env);
    expect([unknown.code, unknown.stderr.trim().split('\n')]).toEqual([2, [expect.stringMatching(/unknown command "frobnicate"/)]]);
    const flag = await runCli(['list', '--colour'], env);
    expect(flag.code).toBe(2);
    expect(flag.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('track with a bad UUID exits 2 with one line and tracks nothing', async () => {
    const good = uuid(1);
    const res = await runCli(['track', good, 'not-a-uuid'], env);
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^LSYNC_ERR_BAD_ID: ids\[1\] \(argument 2\): "not-a-uuid" is not a lipsync UUID/)]);
    expect((await runCli(['status', good], env)).code).toBe(1);
  });

  it('a bad id on stdin exits 2 naming the line, and nothing of its chunk is tracked', async () => {
    const res = await runCli(['track'], env, { stdin: `${uuid(40)}\n# comment\nnope\n` });
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^LSYNC_ERR_BAD_ID: stdin line 3: "nope" is not a lipsync UUID.*0 id\(s\) before this chunk were tracked/)]);
    expect((await runCli(['status', uuid(40)], env)).code).toBe(1);
    expect((await runCli(['track'], env, { stdin: '\n' })).code).toBe(2);
  });

  it('a bad config file exits 78 with one line naming the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lsync-cli-'));
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'poll:\n  batchSize: 0\n');
    const res = await runCli(['run', '--config', path], env);
    expect(res.code).toBe(78);
    expect(res.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^LSYNC_ERR_CONFIG: poll\.batchSize: /)]);
    const missingKey = await runCli(['run'], { REDIS_URL, LIPSYNC_SYNC_PREFIX: prefix });
    expect(missingKey.code).toBe(78);
    expect(missingKey.stderr).toMatch(/creatify\.apiId: missing; set CREATIFY_API_ID/);
  });

  it('a port already in use is one clear line naming http.port, exit 78', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const { port } = blocker.address() as AddressInfo;
    try {
      const res = await runCli(['run'], { ...env, CREATIFY_BASE_URL: sim.baseUrl, PORT: String(port) });
      expect(res.code).toBe(78);
      expect(res.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^LSYNC_ERR_CONFIG: http\.port: cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\); set PORT to a free port$/)]);
    } finally {
      blocker.close();
    }
  });

  it('an unreachable Redis is one clear line, exit 1', async () => {
    const res = await runCli(['list'], { ...env, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^LSYNC_ERR_REDIS_UNAVAILABLE: redis\.url: cannot reach Redis at redis:\/\/127\.0\.0\.1:1/)]);
  });

  it('track (from stdin) then run shows the polled state in status, and SIGTERM stops run cleanly', async () => {
    const [a, b] = [uuid(10), uuid(11)];
    sim.set(a, { status: 'running', progress: '0.3' });
    sim.set(b, { status: 'failed', failed_reason: 'face not detected' });
    const tracked = await runCli(['track'], env, { stdin: `${a}\n\n${b.toUpperCase()}\n` });
    expect(tracked.code).toBe(0);
    expect(tracked.stdout.trim().split('\n')).toEqual([`${a}  tracked`, `${b}  tracked`]);

    const daemon = startCli(['run'], { ...env, CREATIFY_BASE_URL: sim.baseUrl, POLL_INTERVAL_MS: '200', PORT: '0' });
    try {
      await waitUntil(async () => (await runCli(['status', a, '--json'], env)).stdout.includes('"running"'), 'the daemon to poll', 15_000);
    } finally {
      daemon.child.kill('SIGTERM');
    }
    const [code] = (await once(daemon.child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(daemon.output()).not.toContain('cli-secret-key-value');

    const status = await runCli(['status', a], env);
    expect(status.stdout).toMatch(/status\s+running/);
    expect(status.stdout).toMatch(/progress\s+0\.3/);
    const failed = JSON.parse((await runCli(['status', b, '--json'], env)).stdout) as { terminal: boolean; failed_reason: string };
    expect(failed).toMatchObject({ terminal: true, status: 'failed', failed_reason: 'face not detected' });
    const list = await runCli(['list', '--status', 'RUNNING'], env);
    expect(list.stdout.trim()).toBe(`${a}  running`);
    expect((await runCli(['untrack', a], env)).stdout.trim()).toBe(`${a}  untracked`);
    expect((await runCli(['list'], env)).stdout.trim()).toBe('');
  });

  it('replay-dead-letters hands letters back to delivery and keeps those of unconfigured endpoints', async () => {
    const keys = keysFor(prefix);
    const redis = newRedis();
    try {
      const letter = (endpoint: string, n: number) =>
        JSON.stringify({ deadId: `d${n}`, eventId: `evt_${n}`, endpoint, lipsyncId: uuid(60), type: 'lipsync.failed', event: '{}', error: 'HTTP 503', statusCode: 503, attempts: 8, deadAt: new Date().toISOString() });
      await redis.rpush(keys.deadLetters('ops'), letter('ops', 1), letter('ops', 2));
      await redis.rpush(keys.deadLetters('old'), letter('old', 3));
      await redis.sadd(keys.deadLetterEndpoints, 'ops', 'old');
      const hooks = JSON.stringify([{ name: 'ops', url: 'http://127.0.0.1:9/hook', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }]);
      const res = await runCli(['replay-dead-letters'], { ...env, WEBHOOKS_JSON: hooks });
      expect(res.code).toBe(0);
      expect(res.stdout.trim().split('\n')).toEqual(['replayed 2 dead-lettered deliveries', 'kept the dead letters of unconfigured endpoint(s) old; add them to webhooks[] to replay']);
      expect(await redis.llen(keys.deadLetters('ops'))).toBe(0);
      expect(await redis.llen(keys.deadLetters('old'))).toBe(1);
      expect(await redis.llen(keys.deliveryFifo('ops', uuid(60)))).toBe(2);
    } finally {
      redis.disconnect();
    }
  });

  it('secret prints a fresh whsec_ secret', async () => {
    const res = await runCli(['secret'], env);
    expect(res.stdout.trim()).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  });
});
