/**
 * Decides which fault (./faults.ts) hits which answer or item. Deterministic: rate-driven choices draw from
 * one PRNG seeded from the simulator's seed, in a fixed order per answer (server error, answer fault, then
 * per item and per list fault), and draw nothing for a rate of 0, so the same seed and the same requests give
 * the same faults. The requeue choice is per id (a hash of seed and id), so it does not depend on the order in
 * which timelines are created. Forced responses and per-id faults need no draw.
 */
import type { Answer } from './answers.js';
import {
  ANSWER_FAULTS,
  ITEM_FAULTS,
  LIST_FAULTS,
  malformRandomly,
  serverError,
  type AnswerFault,
  type ItemFault,
  type ListFault,
  type Mutation,
} from './faults.js';
import { createRng, type Rng } from './timeline.js';

export type DriftFault = ItemFault | ListFault | AnswerFault | 'requeue';

/** Fraction 0..1 of answers (answer and list faults), of served items (item faults) or of new timelines (requeue). */
export type DriftRates = Partial<Record<DriftFault, number>>;

export interface ForcedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface FaultOptions {
  seed: number;
  /** Fraction of answers replaced by an HTML 500. */
  errorRate?: number;
  /** Fraction of items served malformed (a random MALFORMATION). */
  malformedRate?: number;
  drift?: DriftRates;
  /** `Retry-After` seconds of the `rateLimited` fault. Default 1. */
  retryAfterSeconds?: number;
}

const ITEM_FAULT_NAMES = Object.keys(ITEM_FAULTS) as ItemFault[];
const LIST_FAULT_NAMES = Object.keys(LIST_FAULTS) as ListFault[];
const ANSWER_FAULT_NAMES = Object.keys(ANSWER_FAULTS) as AnswerFault[];
export const DRIFT_FAULTS: readonly DriftFault[] = [...ITEM_FAULT_NAMES, ...LIST_FAULT_NAMES, ...ANSWER_FAULT_NAMES, 'requeue'];

function checkRate(name: string, value: number | undefined): void {
  if (value !== undefined && !(value >= 0 && value <= 1)) throw new RangeError(`${name} must be within 0..1`);
}

/** Checks every rate is a fraction and the answer faults (one of which replaces an answer) sum to at most 1. */
export function checkDrift(rates: DriftRates): void {
  for (const [name, rate] of Object.entries(rates)) {
    if (!(DRIFT_FAULTS as readonly string[]).includes(name)) throw new RangeError(`drift.${name} is not a fault; expected one of ${DRIFT_FAULTS.join(', ')}`);
    checkRate(`drift.${name}`, rate);
  }
  const answerTotal = ANSWER_FAULT_NAMES.reduce((sum, name) => sum + (rates[name] ?? 0), 0);
  if (answerTotal > 1) throw new RangeError(`drift answer faults (${ANSWER_FAULT_NAMES.join(', ')}) must sum to at most 1`);
}

/** FNV-1a: a stable 32-bit hash of an id, so a per-id choice depends on seed and id only. */
function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class FaultInjector {
  /** Drawn for rate-driven faults; separate from the data stream so faults never shift the ids a seed makes. */
  readonly rng: Rng;
  readonly retryAfterSeconds: number;
  private readonly seed: number;
  private readonly errorRate: number;
  private readonly malformedRate: number;
  private drift: DriftRates = {};
  private readonly queue: ForcedResponse[] = [];
  private readonly malformed = new Map<string, Mutation>();
  private readonly forcedById = new Map<string, Set<ItemFault | 'requeue'>>();

  constructor(options: FaultOptions) {
    checkRate('errorRate', options.errorRate);
    checkRate('malformedRate', options.malformedRate);
    if (options.retryAfterSeconds !== undefined && !(Number.isInteger(options.retryAfterSeconds) && options.retryAfterSeconds >= 0)) {
      throw new RangeError('retryAfterSeconds must be a non-negative integer');
    }
    this.seed = options.seed;
    this.rng = createRng(options.seed ^ 0x9e3779b9);
    this.errorRate = options.errorRate ?? 0;
    this.malformedRate = options.malformedRate ?? 0;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
    this.setDrift(options.drift ?? {});
  }

  /** Replaces the drift rates (e.g. a chaos run turning a fault on for a while). */
  setDrift(rates: DriftRates): void {
    checkDrift(rates);
    this.drift = { ...rates };
  }

  enqueue(response: ForcedResponse): void {
    this.queue.push({ ...response, headers: response.headers ? { ...response.headers } : undefined });
  }

  /** The next enqueued response, FIFO; JSON content type added when a body is given without one. */
  takeForced(): Answer | undefined {
    const forced = this.queue.shift();
    if (forced === undefined) return undefined;
    const body = forced.body ?? '';
    const headers = { ...forced.headers };
    const hasType = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
    if (body !== '' && !hasType) headers['content-type'] = 'application/json';
    return { status: forced.status, headers, body };
  }

  setMalformed(key: string, mutate: Mutation): void {
    this.malformed.set(key, mutate);
  }

  /** This id always gets `fault` (an item fault on every answer, or requeue when its timeline is created). */
  force(key: string, fault: ItemFault | 'requeue'): void {
    const faults = this.forcedById.get(key) ?? new Set();
    faults.add(fault);
    this.forcedById.set(key, faults);
  }

  forget(key: string): void {
    this.malformed.delete(key);
    this.forcedById.delete(key);
  }

  /** An HTML 500 for `errorRate` of answers. */
  serverError(): Answer | undefined {
    return this.errorRate > 0 && this.rng() < this.errorRate ? serverError() : undefined;
  }

  /** At most one answer fault per answer: one draw against the cumulative rates. */
  answerFault(): AnswerFault | undefined {
    const active = ANSWER_FAULT_NAMES.filter((name) => (this.drift[name] ?? 0) > 0);
    if (active.length === 0) return undefined;
    const u = this.rng();
    let edge = 0;
    for (const name of active) {
      edge += this.drift[name] ?? 0;
      if (u < edge) return name;
    }
    return undefined;
  }

  /** What to do to one served item, in order; empty (the common case) means serve the cached JSON. */
  itemMutations(key: string): Mutation[] {
    const mutations: Mutation[] = [];
    const hook = this.malformed.get(key);
    const randomlyBroken = this.malformedRate > 0 && this.rng() < this.malformedRate;
    if (hook !== undefined) mutations.push(hook);
    else if (randomlyBroken) mutations.push((o) => malformRandomly(this.rng, o));
    const forced = this.forcedById.get(key);
    for (const name of ITEM_FAULT_NAMES) {
      const rate = this.drift[name] ?? 0;
      if (forced?.has(name) === true || (rate > 0 && this.rng() < rate)) mutations.push(ITEM_FAULTS[name]);
    }
    return mutations;
  }

  /** The list faults for one 200 answer, each drawn independently. */
  listFaults(): ListFault[] {
    return LIST_FAULT_NAMES.filter((name) => {
      const rate = this.drift[name] ?? 0;
      return rate > 0 && this.rng() < rate;
    });
  }

  /** Whether a new timeline for `key` is requeued once (per id, not per draw order). */
  requeues(key: string): boolean {
    if (this.forcedById.get(key)?.has('requeue') === true) return true;
    const rate = this.drift.requeue ?? 0;
    return rate > 0 && createRng(this.seed ^ hashId(key))() < rate;
  }

  reset(): void {
    this.queue.length = 0;
    this.malformed.clear();
    this.forcedById.clear();
  }
}
