import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { LsyncError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'lsync-config-'));
const creds = { CREATIFY_API_ID: 'id-123', CREATIFY_API_KEY: 'key-456' };

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function configError(fn: () => unknown): LsyncError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LsyncError);
    return err as LsyncError;
  }
  throw new Error('expected a config error');
}

describe('loadConfig', () => {
  it('loads the shipped defaults with credentials from env', () => {
    const { config } = loadConfig({ env: creds });
    expect(config.poll).toMatchObject({ intervalMs: 15000, batchSize: 100, concurrency: 4, missingGraceCycles: 3 });
    expect(config.creatify).toMatchObject({ baseUrl: 'https://api.creatify.ai', apiKey: 'key-456', timeoutMs: 10000, maxRequestsPerSecond: 5 });
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'lsync', allowEviction: false, partitions: 1, cluster: false });
    expect(config.http).toMatchObject({ port: 9464, host: '127.0.0.1' });
    expect(config.http.apiToken).toBeUndefined();
    expect(Object.isFrozen(config.poll)).toBe(true);
  });

  it('puts environment variables on top of the file', () => {
    const path = file('a.yaml', 'poll:\n  intervalMs: 2000\nredis:\n  prefix: fromfile\n');
    const { config } = loadConfig({ configPath: path, env: { ...creds, POLL_INTERVAL_MS: '500', REDIS_URL: 'redis://10.0.0.1:6380', PORT: '0', LOG_LEVEL: 'debug' } });
    expect(config.poll.intervalMs).toBe(500);
    expect(config.redis).toMatchObject({ url: 'redis://10.0.0.1:6380', prefix: 'fromfile' });
    expect(config.http.port).toBe(0);
    expect(config.log.level).toBe('debug');
  });

  it('reads the HTTP bind address and both API tokens from the environment', () => {
    const env = { ...creds, HTTP_HOST: '0.0.0.0', LIPSYNC_SYNC_API_TOKEN: 'api-token-0123456789', LIPSYNC_SYNC_READ_TOKEN: 'read-token-0123456789' };
    expect(loadConfig({ env }).config.http).toMatchObject({ host: '0.0.0.0', apiToken: 'api-token-0123456789', readToken: 'read-token-0123456789' });
    expect(configError(() => loadConfig({ env: { ...creds, LIPSYNC_SYNC_READ_TOKEN: 'short' } })).message).toMatch(/^http\.readToken: must be at least 16 characters; fix it in .* or LIPSYNC_SYNC_READ_TOKEN/);
  });

  it('reads the partition count and Cluster mode from the environment, and bounds the count', () => {
    expect(loadConfig({ env: { ...creds, REDIS_PARTITIONS: '12', REDIS_CLUSTER: 'true' } }).config.redis).toMatchObject({ partitions: 12, cluster: true });
    expect(configError(() => loadConfig({ env: { ...creds, REDIS_PARTITIONS: '0' } })).message).toMatch(/^redis\.partitions: .*; fix it in .* or REDIS_PARTITIONS/);
    expect(configError(() => loadConfig({ env: { ...creds, REDIS_PARTITIONS: '257' } })).message).toMatch(/^redis\.partitions: /);
  });

  it('keeps a configured 0 instead of replacing it with a default', () => {
    const path = file('zero.json', JSON.stringify({ creatify: { retries: 0 } }));
    expect(loadConfig({ configPath: path, env: creds }).config.creatify.retries).toBe(0);
  });

  it('reads webhooks from WEBHOOKS_JSON', () => {
    const hooks = [{ name: 'ops', url: 'https://hooks.example/x', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }];
    const { config } = loadConfig({ env: { ...creds, WEBHOOKS_JSON: JSON.stringify(hooks) } });
    expect(config.webhooks[0]?.name).toBe('ops');
  });

  it('names the key and the fix for a value out of range', () => {
    const err = configError(() => loadConfig({ configPath: file('b.yaml', 'poll:\n  batchSize: 500\n'), env: creds }));
    expect(err.code).toBe('LSYNC_ERR_CONFIG');
    expect(err.exitCode).toBe(78);
    expect(err.message).toMatch(/^poll\.batchSize: .*100.*; fix it in .*b\.yaml$/);
    expect(err.message).not.toContain('\n');
  });

  it('leaves cadence off unless configured, and fills its defaults when it is', () => {
    expect(loadConfig({ env: creds }).config.poll.cadence).toBeUndefined();
    const { config } = loadConfig({ configPath: file('cad.yaml', 'poll:\n  cadence: {}\n'), env: creds });
    expect(config.poll.cadence?.periodMs['running']).toBe(15_000);
    expect(config.poll.cadence?.maxPeriodMs).toBe(300_000);
  });

  it('names the cadence key whose period exceeds the ceiling, and a missing default period', () => {
    const high = configError(() => loadConfig({ configPath: file('cad2.yaml', 'poll:\n  cadence:\n    maxPeriodMs: 10000\n    periodMs: {running: 20000, default: 5000}\n'), env: creds }));
    expect(high.exitCode).toBe(78);
    expect(high.message).toMatch(/^poll\.cadence\.periodMs\.running: .*maxPeriodMs/);
    const missing = configError(() => loadConfig({ configPath: file('cad3.yaml', 'poll:\n  cadence:\n    periodMs: {running: 2000}\n'), env: creds }));
    expect(missing.message).toMatch(/^poll\.cadence\.periodMs\.default: is required/);
  });

  it('refuses a cadence ceiling that leaves no room for one interval after the pickup slack', () => {
    const err = configError(() => loadConfig({ configPath: file('cad4.yaml', 'poll:\n  intervalMs: 10000\n  cadence:\n    maxPeriodMs: 20000\n    periodMs: {default: 10000}\n'), env: creds }));
    expect(err.message).toMatch(/^poll\.cadence\.maxPeriodMs: is 20000 ms; .*at least 25000/);
  });

  it('rejects unknown keys so typos do not pass silently', () => {
    const err = configError(() => loadConfig({ configPath: file('c.yaml', 'poll:\n  intervalMS: 5\n'), env: creds }));
    expect(err.message).toMatch(/^poll: unknown key\(s\) intervalMS/);
  });

  it('refuses a missing API key and points at the env var and the demo', () => {
    const err = configError(() => loadConfig({ env: { CREATIFY_API_ID: 'x' } }));
    expect(err.message).toMatch(/creatify\.apiKey: missing; set CREATIFY_API_KEY/);
  });

  it('needs no key with the simulator', () => {
    expect(loadConfig({ env: { CREATIFY_SIMULATOR: 'true' } }).config.creatify.simulator).toBe(true);
  });

  it('explains bad env values, bad JSON, bad YAML and a missing file in one line', () => {
    expect(configError(() => loadConfig({ env: { ...creds, POLL_INTERVAL_MS: 'soon' } })).message).toMatch(/^POLL_INTERVAL_MS: "soon" is not a whole number/);
    expect(configError(() => loadConfig({ env: { ...creds, WEBHOOKS_JSON: '[{' } })).message).toMatch(/^WEBHOOKS_JSON: not valid JSON/);
    expect(configError(() => loadConfig({ configPath: file('d.yaml', 'poll: [1, 2\n'), env: creds })).message).toMatch(/not valid YAML/);
    expect(configError(() => loadConfig({ configPath: join(dir, 'nope.yaml'), env: creds })).message).toMatch(/nope\.yaml: ENOENT; pass an existing file/);
  });

  it('rejects a webhook with a non-http URL or a bad secret, naming the entry', () => {
    const bad = [{ name: 'x', url: 'ftp://example.com', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }];
    expect(configError(() => loadConfig({ env: { ...creds, WEBHOOKS_JSON: JSON.stringify(bad) } })).message).toMatch(/^webhooks\.0\.url: must be an absolute http\(s\) URL; fix it in .* or WEBHOOKS_JSON/);
    const badSecret = [{ name: 'x', url: 'https://example.com', secret: 'plain' }];
    expect(configError(() => loadConfig({ env: { ...creds, WEBHOOKS_JSON: JSON.stringify(badSecret) } })).message).toMatch(/^webhooks\.0\.secret: .*whsec_/);
  });

  it('rejects two endpoints with one name and an events filter naming an unknown type, naming the key', () => {
    const hook = { url: 'https://example.com', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' };
    const twice = [{ ...hook, name: 'ops' }, { ...hook, name: 'ops' }];
    expect(configError(() => loadConfig({ env: { ...creds, WEBHOOKS_JSON: JSON.stringify(twice) } })).message).toMatch(/^webhooks\.1\.name: "ops" is used by another endpoint; give each endpoint a unique name; fix it in .* or WEBHOOKS_JSON/);
    const typo = [{ ...hook, name: 'ops', events: ['lipsync.completed', 'lipsync.complete'] }];
    expect(configError(() => loadConfig({ env: { ...creds, WEBHOOKS_JSON: JSON.stringify(typo) } })).message).toMatch(/^webhooks\.0\.events\.1: must be one of lipsync\.tracked, .*lipsync\.recovered; fix it/);
  });

  it('rejects a failure class rule whose pattern does not compile', () => {
    const path = file('e.yaml', 'failureClasses:\n  - class: face\n    pattern: "(unclosed"\n');
    expect(configError(() => loadConfig({ configPath: path, env: creds })).message).toMatch(/^failureClasses: .*\(unclosed.*not a valid regular expression/);
  });
});
