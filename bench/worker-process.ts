/**
 * A real `lipsync-sync run` worker as a child process (the built CLI, `node dist/cli/main.js run --config`),
 * for the figures that belong to a whole process: peak RSS (VmHWM from /proc/<pid>/status) and the poll cycle
 * time it logs. Every child started here is stopped by stopAllWorkers(), also when a section fails.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigInput } from '../src/config/schema.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/cli/main.js');
const running = new Set<WorkerProcess>();

/**
 * The V8 heap flags the container image runs the worker with (Dockerfile CMD): a 4 MB semi-space and a 128 MB
 * old space make V8 collect before its heap balloons with short-lived answers and event bodies (the retained
 * heap under load is ~30 MB). BENCH_WORKER_NODE_ARGS replaces them (space-separated; empty for plain `node`),
 * e.g. `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=/tmp` to look inside.
 */
export const WORKER_NODE_ARGS: readonly string[] = (process.env['BENCH_WORKER_NODE_ARGS'] ?? '--max-semi-space-size=4 --max-old-space-size=128').split(' ').filter((a) => a !== '');
let built = false;

/** Builds dist/ once per bench run, so the worker measured is the code in this tree. */
export function ensureBuilt(): void {
  if (built) return;
  const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`npm run build failed: ${result.stderr}`);
  built = true;
}

/** One `poll cycle complete` log line of a worker. */
export interface CycleLine {
  at: number;
  ids: number;
  requests: number;
  failedRequests: number;
  events: number;
  seconds: number;
}

/** Reads `VmHWM` / `VmRSS` of a process in MB (Linux); NaN where /proc is not there. */
export function procMemoryMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match?.[1] === undefined ? Number.NaN : Number(match[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

export class WorkerProcess {
  readonly cycles: CycleLine[] = [];
  readonly warnings: string[] = [];
  /** `http://host:port` once the worker logged that it runs (HTTP on port 0 picks a free port). */
  httpUrl: string | null = null;
  running = false;
  #stderr = '';
  #rest = '';

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => this.#lines(chunk));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-4000);
    });
  }

  /** Starts `run` with `config` written to a temp file; `nodeArgs` go before the script. */
  static start(name: string, config: ConfigInput, nodeArgs: readonly string[] = WORKER_NODE_ARGS): WorkerProcess {
    ensureBuilt();
    const dir = mkdtempSync(join(tmpdir(), 'lsync-bench-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(config));
    const child = spawn(process.execPath, [...nodeArgs, CLI, 'run', '--config', file], { cwd: dir, env: { PATH: process.env['PATH'] ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const worker = new WorkerProcess(name, child, dir);
    running.add(worker);
    child.once('exit', () => running.delete(worker));
    return worker;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Peak resident set size so far (VmHWM), MB. */
  peakRssMb(): number {
    return procMemoryMb(this.pid, 'VmHWM');
  }

  rssMb(): number {
    return procMemoryMb(this.pid, 'VmRSS');
  }

  /** Sends a signal (e.g. SIGUSR2 for a heap snapshot when started with --heapsnapshot-signal=SIGUSR2). */
  signal(name: NodeJS.Signals): void {
    this.child.kill(name);
  }

  get directory(): string {
    return this.dir;
  }

  /** The last stderr output, for a failure message. */
  get stderrTail(): string {
    return this.#stderr;
  }

  /** SIGTERM (graceful stop), SIGKILL after `graceMs`; removes the temp dir. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.alive) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      this.child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    }
    running.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Resolves once the worker logged that it runs; rejects if it exits first or after `timeoutMs`. */
  async waitRunning(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.running) {
      if (!this.alive) throw new Error(`worker ${this.name} exited: ${this.#stderr}`);
      if (Date.now() > deadline) throw new Error(`worker ${this.name} not running after ${timeoutMs} ms: ${this.#stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Scrapes the worker's own /metrics (a realistic scrape, with its Redis snapshot) and returns Creatify requests
   * by answer code; remembers the largest V8 heap figures seen (prom-client's process metrics), to tell heap
   * growth from the rest of the RSS.
   */
  async creatifyRequests(): Promise<Record<string, number>> {
    if (this.httpUrl === null) return {};
    const text = await (await fetch(`${this.httpUrl}/metrics`)).text();
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/^lipsync_sync_creatify_requests_total\{code="([^"]*)"\} (\d+)/gm)) out[m[1] ?? '?'] = Number(m[2]);
    const gauge = (name: string): number => Number(new RegExp(`^${name} ([0-9.e+]+)`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20;
    const readings: Record<string, number> = {
      heapTotal: gauge('lipsync_sync_nodejs_heap_size_total_bytes'),
      heapUsed: gauge('lipsync_sync_nodejs_heap_size_used_bytes'),
      external: gauge('lipsync_sync_nodejs_external_memory_bytes'),
      rss: gauge('lipsync_sync_process_resident_memory_bytes'),
    };
    for (const m of text.matchAll(/^lipsync_sync_nodejs_heap_space_size_total_bytes\{space="([^"]*)"\} ([0-9.e+]+)/gm)) readings[`space:${m[1] ?? '?'}`] = Number(m[2]) / 2 ** 20;
    for (const [key, value] of Object.entries(readings)) if (!((this.heapPeaks[key] ?? -1) >= value)) this.heapPeaks[key] = value;
    return out;
  }

  /** Largest value of each heap reading over the scrapes so far, MB. */
  readonly heapPeaks: Record<string, number> = {};

  #lines(chunk: string): void {
    const parts = (this.#rest + chunk).split('\n');
    this.#rest = parts.pop() ?? '';
    for (const text of parts) {
      if (text.includes('"lipsync-sync running"')) {
        this.running = true;
        this.httpUrl = (JSON.parse(text) as { http?: string | null }).http ?? null;
      } else if (text.includes('"poll cycle complete"')) {
        const entry = JSON.parse(text) as CycleLine & { time?: number };
        this.cycles.push({ at: Date.now(), ids: entry.ids, requests: entry.requests, failedRequests: entry.failedRequests, events: entry.events, seconds: entry.seconds });
      } else if (/"level":(40|50|60)/.test(text) && this.warnings.length < 20) this.warnings.push(text.slice(0, 300));
    }
  }
}

/** Stops every worker still running (end of a section, or after a failure). */
export async function stopAllWorkers(): Promise<void> {
  await Promise.all([...running].map((w) => w.stop(3000)));
}
