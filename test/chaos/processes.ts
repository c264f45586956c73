/**
 * The real processes of a chaos run: a private redis-server with AOF that can be SIGKILLed and restarted on
 * the same port and data, and daemon replicas (`node dist/cli/main.js run`).
 * Invariant: every child spawned here is in `children` until it exits, and `killAllNow()` (called from the
 * harness's exit handlers) SIGKILLs whatever is left and removes the temp dirs, so no way out of the suite
 * leaves a process (or a Redis data dir) behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../bench/stats.js';
import { freePort, waitForPing } from '../../src/runtime/private-redis.js';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const REDIS_BIN = process.env['REDIS_SERVER_BIN'] ?? 'redis-server';

const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

const tempDirs = new Set<string>();

/** `dir` is removed by killAllNow() unless the run ends normally first (CHAOS_KEEP keeps it for the logs). */
export function removeOnExit(dir: string): () => void {
  tempDirs.add(dir);
  return () => tempDirs.delete(dir);
}

/** Synchronous, for `process.on('exit')`: SIGKILL every child still running and remove the temp dirs. */
export function killAllNow(): void {
  for (const child of children) child.kill('SIGKILL');
  if (process.env['CHAOS_KEEP'] === undefined) for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  child.kill('SIGTERM');
  await exited(child);
  clearTimeout(timer);
}

/** redis-server with `appendfsync always`: a SIGKILL loses nothing the daemon was told was written. */
export class ChaosRedis {
  #child: ChildProcess | null = null;
  #port = 0;

  constructor(readonly dir: string) {}

  get url(): string {
    return `redis://127.0.0.1:${this.#port}`;
  }

  async start(): Promise<void> {
    if (this.#port === 0) this.#port = await freePort();
    const args = ['--port', String(this.#port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--loglevel', 'warning'];
    const child = track(spawn(REDIS_BIN, args, { stdio: 'ignore' }));
    this.#child = child;
    await waitForPing(this.url, child, 10_000);
  }

  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = null;
    if (child === null) return;
    child.kill('SIGKILL');
    await exited(child);
  }

  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = null;
    if (child !== null) await terminate(child, 3000);
  }
}

export interface ReplicaSpec {
  name: string;
  env: Record<string, string>;
  logDir: string;
}

/** One `lipsync-sync run` process; `start()` after `kill()` starts a fresh one in its place (new HTTP port). */
export class Replica {
  #child: ChildProcess | null = null;
  #port = 0;
  /** Incremented per start, so each process's log has its own file. */
  #generation = 0;

  constructor(readonly spec: ReplicaSpec) {}

  get name(): string {
    return this.spec.name;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get alive(): boolean {
    return this.#child !== null && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Why the process ended on its own, or null while it runs (or after we killed it). */
  get crashed(): string | null {
    const child = this.#child;
    if (child === null || child.exitCode === null) return null;
    return `exited with code ${child.exitCode}`;
  }

  get logFile(): string {
    return join(this.spec.logDir, `${this.spec.name}.${this.#generation}.log`);
  }

  async start(): Promise<void> {
    this.#port = await freePort();
    this.#generation++;
    const log = createWriteStream(this.logFile);
    const child = track(
      spawn(process.execPath, [CLI, 'run'], {
        env: { PATH: process.env['PATH'] ?? '', ...this.spec.env, PORT: String(this.#port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.#child = child;
    const up = await waitFor(async () => (await httpStatus(`${this.httpUrl}/healthz`)) === 200 || !this.alive, 20_000, 100);
    if (!up || !this.alive) throw new Error(`replica ${this.name} did not come up (see ${this.logFile})`);
  }

  async kill(): Promise<void> {
    const child = this.#child;
    if (child === null) return;
    child.kill('SIGKILL');
    await exited(child);
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child !== null) await terminate(child, 10_000);
  }
}

/** The HTTP status of a GET, or 0 when nothing answered within a second. */
export async function httpStatus(url: string): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}
