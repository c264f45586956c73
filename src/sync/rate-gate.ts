/**
 * The Creatify request rate shared by every partition and replica when `redis.partitions` > 1. One partition
 * has one poll queue whose BullMQ limiter already is that shared rate; P partitions have P queues, and P limiters
 * would allow P times the rate. The gate is one key (one slot, wherever it lives in a Cluster) that hands out
 * one request slot per `1000 / rate` ms (rateGate.lua).
 */
import type { Redis } from '../store/redis.js';
import { basePrefix } from '../store/partitions.js';
import { runScript } from '../store/scripts.js';

export class RateGate {
  readonly #intervalMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    requestsPerSecond: number,
  ) {
    this.#intervalMs = Math.ceil(1000 / requestsPerSecond);
  }

  /** 0 when this caller may send one request now (its slot is taken), else how many ms until the next slot. */
  async acquire(): Promise<number> {
    return Number(await runScript(this.redis, 'rateGate', [this.key], [this.#intervalMs]));
  }
}

/** The gate's key: outside every partition's hash tag (it is the one thing they share). */
export function rateGateKey(prefix: string): string {
  return `${basePrefix(prefix)}:rate`;
}
