import type { Worker } from 'node:worker_threads';
import type { EventLoopUtilization } from 'node:perf_hooks';
import type { Lipsync } from '../src/creatify/schema.js';
import { isKind, nextMessage, startTsWorker } from './worker-host.js';

/** The CreatifySimulator (real HTTP list endpoint) running in its own worker thread. */
export class BenchSimulator {
  private seq = 0;

  private constructor(
    readonly baseUrl: string,
    private readonly worker: Worker,
  ) {}

  /** `rateLimitPerSecond`: the simulator answers 429 beyond it, like Creatify (sliding 1 s window). */
  static async start(seed = 1, rateLimitPerSecond?: number): Promise<BenchSimulator> {
    const worker = startTsWorker(new URL('./simulator-worker.ts', import.meta.url), { seed, rateLimitPerSecond });
    const listening = await nextMessage(worker, isKind('listening'));
    return new BenchSimulator(String(listening['url']), worker);
  }

  /** `simulator.set(id, fields)` for every id; resolves to the unix ms each set took effect, in order. */
  async set(ids: readonly string[], fields: Partial<Lipsync>): Promise<number[]> {
    const seq = ++this.seq;
    const done = nextMessage(this.worker, (m): m is { kind: 'setDone'; seq: number; at: number[] } => isKind('setDone')(m) && m['seq'] === seq, 60_000);
    this.worker.postMessage({ kind: 'set', seq, ids, fields });
    return (await done).at;
  }

  eventLoopUtilization(since?: EventLoopUtilization): EventLoopUtilization {
    return this.worker.performance.eventLoopUtilization(since);
  }

  async stop(): Promise<void> {
    const stopped = nextMessage(this.worker, isKind('stopped'), 5000).catch(() => undefined);
    this.worker.postMessage({ kind: 'stop' });
    await stopped;
    await this.worker.terminate();
  }
}
