/**
 * Upstream drift the chaos suite injects into Creatify's list answers, as pure functions of a seeded PRNG.
 * Invariant: each fault is one the daemon can see in one answer and must survive without losing a change;
 * a fault that leaves the answer intact for an id (duplicated items, unasked ids) still counts as a poll of it.
 */
import { randomUuidV4, type Rng } from '../../src/simulator/timeline.js';

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

/** Faults answered without asking the simulator. */
export const SYNTHETIC: ReadonlySet<FaultKind> = new Set(['html_502', 'rate_limited_retry_after', 'rate_limited_bare']);

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

export interface SyntheticAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

// What a load balancer in front of Django says while the app restarts.
const BAD_GATEWAY_HTML = '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n';

export function syntheticAnswer(kind: FaultKind): SyntheticAnswer {
  switch (kind) {
    case 'html_502':
      return { status: 502, headers: { 'content-type': 'text/html' }, body: BAD_GATEWAY_HTML };
    case 'rate_limited_retry_after':
      return { status: 429, headers: { 'content-type': 'application/json', 'retry-after': '1' }, body: '{"detail":"Request was throttled. Expected available in 1 second."}' };
    default:
      return { status: 429, headers: { 'content-type': 'application/json' }, body: '{"detail":"Request was throttled."}' };
  }
}

export type Item = Record<string, unknown>;

export interface Rewritten {
  body: string;
  /** Ids whose current item reached the daemon intact in this answer. */
  answered: string[];
  /** How many oddities the answer carries (items duplicated, added, made stale or unreadable; ids emptied out). */
  count: number;
}

function idOf(item: Item): string {
  return String(item['id']).toLowerCase();
}

/**
 * Rewrites a 200 answer's items for `kind`. `older(id)` gives an older copy of an item, when one is known to
 * be older than what the daemon has already stored; without one a stale fault leaves the answer as it is.
 */
export function rewriteAnswer(kind: FaultKind, items: readonly Item[], rng: Rng, older: (id: string) => Item | undefined): Rewritten {
  const ids = items.map(idOf);
  const intact = (body: Item[], except: string[] = []): Rewritten => ({ body: JSON.stringify(body), answered: ids.filter((id) => !except.includes(id)), count: 1 });
  if (items.length === 0) return { body: '[]', answered: [], count: 0 };
  const victim = Math.floor(rng() * items.length);
  const victimId = ids[victim] as string;
  switch (kind) {
    case 'truncated_json': {
      const text = JSON.stringify(items);
      return { body: text.slice(0, 1 + Math.floor(rng() * (text.length - 2))), answered: [], count: 1 };
    }
    case 'empty_array':
      return { body: '[]', answered: [], count: ids.length };
    case 'duplicated_item':
      return intact([...items.slice(0, victim + 1), structuredClone(items[victim] as Item), ...items.slice(victim + 1)]);
    case 'unasked_id':
      return intact([...items, { ...structuredClone(items[victim] as Item), id: randomUuidV4(rng) }]);
    case 'stale_item': {
      const old = older(victimId);
      if (old === undefined) return { body: JSON.stringify(items), answered: ids, count: 0 };
      return intact(items.map((item, i) => (i === victim ? old : item)), [victimId]);
    }
    case 'item_without_status': {
      const copy = structuredClone(items[victim] as Item);
      delete copy['status'];
      return intact(items.map((item, i) => (i === victim ? copy : item)), [victimId]);
    }
    default:
      return { body: JSON.stringify(items), answered: ids, count: 0 };
  }
}
