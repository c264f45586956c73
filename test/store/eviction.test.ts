import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { LsyncError } from '../../src/errors.js';
import { checkEviction, judgeEviction } from '../../src/store/eviction.js';
import { startPrivateRedis, type PrivateRedis } from '../../src/runtime/private-redis.js';
import { runCli, startCli } from '../helpers/cli.js';
import { REDIS_URL } from '../helpers/redis.js';

// Each policy needs its own redis-server; the shared one is never reconfigured.
let lru: PrivateRedis;
let noConfig: PrivateRedis;
const clients: Redis[] = [];

function connect(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  clients.push(redis);
  return redis;
}

beforeAll(async () => {
  [lru, noConfig] = await Promise.all([
    startPrivateRedis({ args: ['--maxmemory-policy', 'allkeys-lru'] }),
    // What managed Redis services do: CONFIG is not available to clients.
    startPrivateRedis({ args: ['--rename-command', 'CONFIG', ''] }),
  ]);
});

afterAll(async () => {
  clients.forEach((c) => c.disconnect());
  await Promise.all([lru.stop(), noConfig.stop()]);
});

describe('judgeEviction', () => {
  it('passes noeviction, refuses an evicting policy naming the setting and the fix, unless allowed', () => {
    expect(judgeEviction('noeviction', false)).toEqual({ policy: 'noeviction', detail: 'maxmemory-policy noeviction' });
    for (const policy of ['allkeys-lru', 'volatile-ttl', 'allkeys-random']) {
      const err = (() => {
        try {
          judgeEviction(policy, false);
        } catch (e) {
          return e;
        }
        throw new Error('expected a refusal');
      })() as LsyncError;
      expect(err).toMatchObject({ code: 'LSYNC_ERR_CONFIG', field: 'redis.allowEviction', exitCode: 78 });
      expect(err.message).toContain(`maxmemory-policy ${policy}`);
      expect(err.message).toMatch(/set maxmemory-policy noeviction .*or redis\.allowEviction: true/);
      expect(judgeEviction(policy, true).detail).toBe(`maxmemory-policy ${policy} evicts keys; allowed by redis.allowEviction`);
    }
    expect(judgeEviction(null, false, 'NOPERM').detail).toMatch(/^unknown: .*NOPERM/);
  });
});

describe('checkEviction against real redis-servers', () => {
  it('reads noeviction from the shared Redis', async () => {
    expect(await checkEviction(connect(REDIS_URL), false)).toEqual({ policy: 'noeviction', detail: 'maxmemory-policy noeviction' });
  });

  it('refuses allkeys-lru, or reports it when allowed', async () => {
    await expect(checkEviction(connect(lru.url), false)).rejects.toMatchObject({ code: 'LSYNC_ERR_CONFIG', field: 'redis.allowEviction' });
    expect(await checkEviction(connect(lru.url), true)).toMatchObject({ policy: 'allkeys-lru' });
  });

  it('reports an unknown policy, without refusing, where CONFIG GET is refused', async () => {
    const result = await checkEviction(connect(noConfig.url), false);
    expect(result.policy).toBeNull();
    expect(result.detail).toMatch(/^unknown: maxmemory-policy could not be read \(CONFIG GET refused: .*unknown command/i);
  });
});

describe('lipsync-sync run (built binary)', () => {
  const env = { CREATIFY_SIMULATOR: 'true', PORT: '0', LIPSYNC_SYNC_PREFIX: `t-evict-${process.pid}`, LOG_LEVEL: 'warn' };

  it('exits 78 with one line naming maxmemory-policy and redis.allowEviction on an evicting Redis', async () => {
    const res = await runCli(['run'], { ...env, REDIS_URL: lru.url });
    expect(res.code).toBe(78);
    expect(res.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^LSYNC_ERR_CONFIG: redis\.allowEviction: Redis has maxmemory-policy allkeys-lru, .*set maxmemory-policy noeviction/)]);
    expect(await connect(lru.url).dbsize()).toBe(0);
  });

  it('starts on that Redis with redis.allowEviction: true and shows the policy in readiness', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lsync-evict-'));
    const configPath = join(dir, 'allow.yaml');
    writeFileSync(configPath, 'redis:\n  allowEviction: true\n');
    const { eviction, output } = await readinessOfRun(lru.url, ['--config', configPath]);
    expect(eviction).toEqual({ ok: true, detail: 'maxmemory-policy allkeys-lru evicts keys; allowed by redis.allowEviction' });
    expect(output).toMatch(/"level":40.*Redis may lose keys/);
  });

  it('starts with a warning and eviction "unknown" in readiness where CONFIG GET is refused', async () => {
    const { eviction, output } = await readinessOfRun(noConfig.url, []);
    expect(eviction).toMatchObject({ ok: true, detail: expect.stringMatching(/^unknown: /) });
    expect(output).toMatch(/"level":40.*Redis may lose keys/);
  });

  /** Starts `run`, reads `checks.eviction` from /readyz, stops it with SIGTERM. */
  async function readinessOfRun(redisUrl: string, args: string[]): Promise<{ eviction: unknown; output: string }> {
    const { child, output } = startCli(['run', ...args], { ...env, REDIS_URL: redisUrl, LOG_LEVEL: 'info' });
    try {
      const url = await waitForHttpUrl(output);
      const body = (await (await fetch(`${url}/readyz`)).json()) as { checks: Record<string, unknown> };
      return { eviction: body.checks['eviction'], output: output() };
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }
});

/** The `http` field of the "lipsync-sync running" log line. */
async function waitForHttpUrl(output: () => string): Promise<string> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const match = /"http":"(http:\/\/[^"]+)"/.exec(output());
    if (match?.[1] !== undefined) return match[1];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`run did not report its HTTP address; output: ${output()}`);
}
