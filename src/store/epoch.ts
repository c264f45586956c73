/**
 * Detects a Redis that came back without our data (flushed, restarted without persistence, failed over to an
 * empty replica). The first start writes `{prefix}:epoch`; every later check compares what is stored with what
 * this process saw before. Once it has seen an epoch, a missing or different one means the data set it was
 * working on is gone: an empty pending set then is data loss, not "idle and healthy". The check re-writes the
 * epoch in the same atomic step, so each loss is reported once per replica.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { runScript } from './scripts.js';

/** `first-start`: this call wrote the first epoch; `same`: the data set this process knows; `lost`: it is gone. */
export type EpochState = 'first-start' | 'same' | 'lost';

/** The verdict from what this process knew (`known`, null before its first check) and what Redis holds now. */
export function classifyEpoch(known: string | null, stored: string, wrote: boolean): EpochState {
  if (known === null) return wrote ? 'first-start' : 'same';
  return stored === known ? 'same' : 'lost';
}

/** A new epoch value: creation time plus randomness, so two first starts never write the same one. */
export function newEpoch(now = Date.now()): string {
  return `${now}-${randomBytes(6).toString('hex')}`;
}

/** One atomic read-or-write of the epoch key. */
export async function ensureEpoch(redis: Redis, keys: Keys, candidate = newEpoch()): Promise<{ stored: string; wrote: boolean }> {
  const [stored, wrote] = (await runScript(redis, 'epochEnsure', [keys.epoch], [candidate])) as [string, number];
  return { stored, wrote: wrote === 1 };
}

export interface DataLoss {
  /** When this process noticed (ms). */
  at: number;
  /** The epoch it had seen before. */
  previous: string;
}

/** One line for the error log and readiness. */
export function describeLoss(loss: DataLoss): string {
  return `Redis came back without our data at ${new Date(loss.at).toISOString()} (epoch key missing or replaced): ids tracked and deliveries queued before then are lost; re-track them and check receivers for gaps`;
}

/** Remembers the epoch this process works on and reports when Redis no longer holds it. */
export class EpochWatch {
  #known: string | null = null;
  #lastLoss: DataLoss | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly onLost: (loss: DataLoss) => void,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The last loss this process noticed, null when none. */
  get lastLoss(): DataLoss | null {
    return this.#lastLoss;
  }

  async check(): Promise<EpochState> {
    const previous = this.#known;
    const { stored, wrote } = await ensureEpoch(this.redis, this.keys, newEpoch(this.clock()));
    const state = classifyEpoch(previous, stored, wrote);
    this.#known = stored;
    if (state === 'lost' && previous !== null) {
      this.#lastLoss = { at: this.clock(), previous };
      this.onLost(this.#lastLoss);
    }
    return state;
  }
}
