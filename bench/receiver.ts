import type http from 'node:http';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { addCounts, close, createReceiverServer, listen, zeroCounts, type ReceivedRecord, type ReceiverConfig, type ReceiverCounts } from './receiver-core.js';
import { waitFor } from './stats.js';
import { isKind, nextMessage, startTsWorker } from './worker-host.js';

export interface BenchReceiverOptions extends ReceiverConfig {
  /** Run the HTTP server on the main thread (competing with the sender) instead of a worker thread. */
  inline?: boolean;
  /** Keep every record (ids, times) for latency and uniqueness; else only counts. */
  keepRecords?: boolean;
}

/**
 * A webhook receiver that answers 204 as fast as node:http can. By default it runs in a worker thread, so on
 * this 2-core machine it does not take event-loop time from the code under test (a real receiver is elsewhere).
 */
export class BenchReceiver {
  readonly counts: ReceiverCounts = zeroCounts();
  readonly records: ReceivedRecord[] = [];
  readonly uniqueIds = new Set<string>();
  lastReceivedAt = 0;
  /** Signature checks since start; unlike `counts`, never reset. */
  verifiedTotal = 0;
  verifyFailedTotal = 0;

  private seq = 0;

  private constructor(
    readonly url: string,
    private readonly keepRecords: boolean,
    private readonly worker: Worker | null,
    private readonly server: http.Server | null,
  ) {}

  static async start(options: BenchReceiverOptions): Promise<BenchReceiver> {
    const config: ReceiverConfig = { secret: options.secret, parseBodies: options.parseBodies, verifyEvery: options.verifyEvery };
    const keep = options.keepRecords ?? true;
    if (options.inline === true) {
      const counts = zeroCounts();
      let self: BenchReceiver | null = null;
      const server = createReceiverServer(config, counts, (record) => {
        if (self === null) return;
        self.addCounts(counts);
        Object.assign(counts, zeroCounts());
        self.take([record]);
      });
      const url = await listen(server);
      self = new BenchReceiver(url, keep, null, server);
      return self;
    }
    const worker = startTsWorker(new URL('./receiver-worker.ts', import.meta.url), config);
    const listening = await nextMessage(worker, isKind('listening'));
    const receiver = new BenchReceiver(String(listening['url']), keep, worker, null);
    worker.on('message', (message: unknown) => {
      if (!isKind('batch')(message)) return;
      receiver.addCounts(message['counts'] as ReceiverCounts);
      receiver.take(message['records'] as ReceivedRecord[]);
    });
    return receiver;
  }

  /** Distinct `webhook-id`s received (deliveries are at-least-once). */
  get unique(): number {
    return this.uniqueIds.size;
  }

  /** Waits until `count` distinct ids arrived; false after `timeoutMs`. */
  waitForUnique(count: number, timeoutMs: number): Promise<boolean> {
    return waitFor(() => this.uniqueIds.size >= count, timeoutMs, 10);
  }

  /** Makes sure everything the worker has received is reflected here. */
  async flush(): Promise<void> {
    if (this.worker === null) return;
    const seq = ++this.seq;
    const flushed = nextMessage(this.worker, (m): m is { kind: 'flushed'; seq: number } => isKind('flushed')(m) && m['seq'] === seq);
    this.worker.postMessage({ kind: 'flush', seq });
    await flushed;
  }

  /** Forgets everything received so far (call flush() first). */
  reset(): void {
    Object.assign(this.counts, zeroCounts());
    this.records.length = 0;
    this.uniqueIds.clear();
    this.lastReceivedAt = 0;
  }

  /** Event-loop utilisation of the receiver's thread since `since` (a previous result), if it has its own. */
  eventLoopUtilization(since?: EventLoopUtilization): EventLoopUtilization | null {
    if (this.worker === null) return null;
    return this.worker.performance.eventLoopUtilization(since);
  }

  async stop(): Promise<void> {
    if (this.server !== null) await close(this.server);
    if (this.worker !== null) {
      const stopped = nextMessage(this.worker, isKind('stopped'), 5000).catch(() => undefined);
      this.worker.postMessage({ kind: 'stop' });
      await stopped;
      await this.worker.terminate();
    }
  }

  private addCounts(delta: ReceiverCounts): void {
    addCounts(this.counts, delta);
    this.verifiedTotal += delta.verified;
    this.verifyFailedTotal += delta.verifyFailed;
  }

  private take(records: readonly ReceivedRecord[]): void {
    for (const record of records) {
      this.uniqueIds.add(record.id);
      if (record.receivedAt > this.lastReceivedAt) this.lastReceivedAt = record.receivedAt;
      if (this.keepRecords) this.records.push(record);
    }
  }
}

/** Main-thread event-loop utilisation helper (1.0 = the thread never idled). */
export function mainElu(since?: EventLoopUtilization): EventLoopUtilization {
  return performance.eventLoopUtilization(since);
}
