/**
 * Upstream drift the chaos suite puts into the simulator's list answers on their way to a replica. The
 * faults themselves are the simulator's (src/simulator/faults.ts); this module decides which one hits which
 * request (seeded rounds, so every kind shows up even in a short run) and says, for the answer it produced,
 * which ids the replica really got a readable, current item for.
 * Invariant: a fault that leaves an id's item intact (duplicated items, an id not asked for, another item made
 * unreadable or stale) still counts as a poll of that id; nothing else does.
 */
import type { Answer } from '../../src/simulator/answers.js';
import { ANSWER_FAULTS, ITEM_FAULTS, LIST_FAULTS } from '../../src/simulator/faults.js';
import type { Rng } from '../../src/simulator/timeline.js';

export const FAULT_KINDS = [
  'truncated_json',
  'html_502',
  'empty_array',
  'rate_limited_retry_after',
  'rate_limited_bare',
  'duplicated_item',
  'unasked_id',
  'stale_item',
  'item_without_status',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * Decides, request by request, whether to inject a fault and which. Kinds come in seeded shuffled rounds
 * rather than independent draws, so even a short run injects every kind.
 */
export class FaultPlan {
  #round: FaultKind[] = [];

  constructor(
    private readonly rng: Rng,
    private readonly rate: number,
  ) {}

  next(): FaultKind | null {
    if (!(this.rate > 0 && this.rng() < this.rate)) return null;
    if (this.#round.length === 0) {
      const round = [...FAULT_KINDS];
      for (let i = round.length - 1; i > 0; i--) {
        const j = Math.floor(this.rng() * (i + 1));
        [round[i], round[j]] = [round[j] as FaultKind, round[i] as FaultKind];
      }
      this.#round = round;
    }
    return this.#round.pop() ?? null;
  }
}

export type Item = Record<string, unknown>;

export interface Rewritten {
  answer: Answer;
  /** Ids whose current item reached the daemon intact in this answer. */
  answered: string[];
  /** How many oddities the answer carries (items duplicated, added, made stale or unreadable; ids emptied out). */
  count: number;
}

function idOf(item: Item): string {
  return String(item['id']).toLowerCase();
}

/**
 * Rewrites one 200 list answer for `kind`. `older(id)` gives an older copy of an item (an earlier
 * `updated_at`) when one is known to be older than what the daemon has already stored; without one a stale
 * fault leaves the answer as it is. The simulator's own `progressBack` keeps `updated_at`, which SPEC applies as
 * a real change, so a stale item here carries the older timestamp: the answer the daemon must not go back to.
 */
export function rewriteAnswer(kind: FaultKind, answer: Answer, rng: Rng, now: number, older: (id: string) => Item | undefined): Rewritten {
  const items = JSON.parse(answer.body) as Item[];
  const ids = items.map(idOf);
  const untouched: Rewritten = { answer, answered: ids, count: 0 };
  const victim = Math.floor(rng() * items.length);
  const victimId = ids[victim];
  const texts = (list: readonly Item[]): string[] => list.map((i) => JSON.stringify(i));
  const replaceVictim = (item: Item): Rewritten => ({
    answer: { ...answer, body: `[${texts(items.map((it, i) => (i === victim ? item : it))).join(',')}]` },
    answered: ids.filter((id) => id !== victimId),
    count: 1,
  });
  switch (kind) {
    case 'truncated_json':
      return { answer: ANSWER_FAULTS.truncatedJson({ normal: () => answer, retryAfterSeconds: 1 }), answered: [], count: 1 };
    case 'html_502':
      return { answer: ANSWER_FAULTS.badGateway(), answered: [], count: 1 };
    case 'rate_limited_retry_after':
      return { answer: ANSWER_FAULTS.rateLimited({ normal: () => answer, retryAfterSeconds: 1 }), answered: [], count: 1 };
    case 'rate_limited_bare':
      return { answer: ANSWER_FAULTS.rateLimitedNoRetryAfter(), answered: [], count: 1 };
    case 'empty_array':
      return { answer: ANSWER_FAULTS.emptyArray(), answered: [], count: ids.length };
  }
  if (victimId === undefined) return untouched;
  switch (kind) {
    case 'duplicated_item':
      return { answer: { ...answer, body: `[${LIST_FAULTS.duplicateItem(texts(items), rng).join(',')}]` }, answered: ids, count: 1 };
    case 'unasked_id':
      return { answer: { ...answer, body: `[${LIST_FAULTS.extraId(texts(items), rng, now).join(',')}]` }, answered: ids, count: 1 };
    case 'item_without_status': {
      const copy = structuredClone(items[victim] as Item);
      ITEM_FAULTS.missingStatus(copy);
      return replaceVictim(copy);
    }
    case 'stale_item': {
      const old = older(victimId);
      return old === undefined ? untouched : replaceVictim(old);
    }
  }
}
