import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { LsyncError } from '../errors.js';

const CANDIDATES = [process.env['REDIS_SERVER_BIN'], '/usr/bin/redis-server', '/usr/local/bin/redis-server', '/opt/homebrew/bin/redis-server'];

export interface PrivateRedis {
  url: string;
  stop(): Promise<void>;
}

export interface PrivateRedisOptions {
  startTimeoutMs?: number;
  port?: number;
  /** Extra redis-server arguments after ours, e.g. `['--maxmemory-policy', 'allkeys-lru']`. */
  args?: readonly string[];
}

/**
 * A throw-away redis-server on a free loopback port, for `demo` and tests when no REDIS_URL is given.
 * Nothing is persisted; the process dies with us.
 */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const binary = CANDIDATES.find((p): p is string => p !== undefined && existsSync(p));
  if (binary === undefined) {
    throw new LsyncError('LSYNC_ERR_REDIS_UNAVAILABLE', 'redis.url: no REDIS_URL set and no redis-server binary found; install redis-server (apt-get install redis-server) or set REDIS_URL', { field: 'redis.url' });
  }
  const port = options.port ?? (await freePort());
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--loglevel', 'warning', ...(options.args ?? [])], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  // Whatever way this process ends (an error, process.exit, a second signal), the child goes with it.
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  try {
    await waitForPing(url, child, options.startTimeoutMs ?? 5000);
  } catch (err) {
    killOnExit();
    process.off('exit', killOnExit);
    throw err;
  }
  return {
    url,
    stop: async () => {
      await stopChild(child);
      process.off('exit', killOnExit);
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function waitForPing(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new LsyncError('LSYNC_ERR_REDIS_UNAVAILABLE', `private redis-server exited with code ${child.exitCode}`);
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      probe.disconnect();
    }
  }
  child.kill('SIGKILL');
  throw new LsyncError('LSYNC_ERR_REDIS_UNAVAILABLE', `private redis-server did not answer within ${timeoutMs} ms`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
