/**
 * The tracking operations over every partition (`redis.partitions` > 1): an id's reads and writes go to the
 * partition that owns it; counts are summed and listings walk the partitions in order. Callers (HTTP API, CLI,
 * discovery, status page, metrics) see one store whatever the partition count.
 */
import { groupByPartition, partitionOf } from './partitions.js';
import type { DiscoverCode, ListPage, TrackCode, TrackingStore, UntrackCode } from './tracking.js';
import { addCounts, sum } from '../shared/counts.js';

/** What callers outside the poll path use; a TrackingStore is one, and so is a PartitionedStore. */
export type LipsyncStore = Pick<TrackingStore, 'redis' | 'track' | 'trackDiscovered' | 'discoveredCount' | 'untrack' | 'unreadableCount' | 'pendingCount' | 'get' | 'listPending' | 'statusCounts' | 'stalled' | 'stalledCounts'>;

/** One partition needs no routing: its own TrackingStore is the store. */
export function storeOver(parts: readonly TrackingStore[]): LipsyncStore {
  const [first] = parts;
  if (first === undefined) throw new Error('no partitions');
  return parts.length === 1 ? first : new PartitionedStore(parts);
}

export class PartitionedStore implements LipsyncStore {
  constructor(readonly parts: readonly TrackingStore[]) {}

  get redis(): TrackingStore['redis'] {
    return (this.parts[0] as TrackingStore).redis;
  }

  async track(ids: readonly string[], now = Date.now()): Promise<Map<string, TrackCode>> {
    return this.#routed(ids, (part, group) => part.track(group, now));
  }

  /** Each partition remembers its share of `maxRemembered` (ids spread evenly, so the total stays near it). */
  async trackDiscovered(ids: readonly string[], maxRemembered: number, now = Date.now()): Promise<Map<string, DiscoverCode>> {
    const share = Math.max(1, Math.ceil(maxRemembered / this.parts.length));
    return this.#routed(ids, (part, group) => part.trackDiscovered(group, share, now));
  }

  async untrack(ids: readonly string[]): Promise<Map<string, UntrackCode>> {
    return this.#routed(ids, (part, group) => part.untrack(group));
  }

  async get(id: string): Promise<Awaited<ReturnType<TrackingStore['get']>>> {
    return this.#owner(id).get(id);
  }

  async discoveredCount(): Promise<number> {
    return sum(await Promise.all(this.parts.map((p) => p.discoveredCount())));
  }

  async unreadableCount(): Promise<number> {
    return sum(await Promise.all(this.parts.map((p) => p.unreadableCount())));
  }

  async pendingCount(): Promise<number> {
    return sum(await Promise.all(this.parts.map((p) => p.pendingCount())));
  }

  async statusCounts(): Promise<Record<string, number>> {
    return addCounts(await Promise.all(this.parts.map((p) => p.statusCounts())));
  }

  async stalledCounts(): Promise<Record<string, number>> {
    return addCounts(await Promise.all(this.parts.map((p) => p.stalledCounts())));
  }

  /** The longest-stalled first across partitions: each gives its own first `limit`, merged. */
  async stalled(limit = 50): Promise<Awaited<ReturnType<TrackingStore['stalled']>>> {
    const all = (await Promise.all(this.parts.map((p) => p.stalled(limit)))).flat();
    return all.sort((a, b) => a.since.localeCompare(b.since)).slice(0, limit);
  }

  /**
   * One page from one partition. The cursor is still one decimal number (the API's contract): partition index +
   * partition count × that partition's ZSCAN cursor, so `0` is both the start and the end, as with one set.
   */
  async listPending(options: { cursor?: string; count?: number; status?: string } = {}): Promise<ListPage> {
    const count = BigInt(this.parts.length);
    const combined = BigInt(options.cursor ?? '0');
    const index = Number(combined % count);
    const page = await (this.parts[index] as TrackingStore).listPending({ ...options, cursor: (combined / count).toString() });
    const inner = BigInt(page.cursor);
    const next = inner !== 0n ? inner * count + BigInt(index) : index + 1 < this.parts.length ? BigInt(index + 1) : 0n;
    return { items: page.items, cursor: next.toString() };
  }

  #owner(id: string): TrackingStore {
    return this.parts[partitionOf(id, this.parts.length)] as TrackingStore;
  }

  /** Runs `write` once per partition with its ids, then answers in the callers' order. */
  async #routed<C>(ids: readonly string[], write: (part: TrackingStore, group: string[]) => Promise<Map<string, C>>): Promise<Map<string, C>> {
    const groups = [...groupByPartition(ids, this.parts.length)];
    const results = await Promise.all(groups.map(([p, group]) => write(this.parts[p] as TrackingStore, group)));
    const merged = new Map<string, C>();
    for (const result of results) for (const [id, code] of result) merged.set(id, code);
    const out = new Map<string, C>();
    for (const id of ids) {
      const code = merged.get(id);
      if (code !== undefined) out.set(id, code);
    }
    return out;
  }
}
