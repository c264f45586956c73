/**
 * How the keyspace splits into `redis.partitions` (SPEC "Decisions": Partitions). Pure: no Redis here.
 * One partition keeps SPEC's key and queue names; P > 1 puts partition p under the hash tag `{prefix:p}`, so every
 * key and BullMQ queue of a partition lives in one Cluster slot (each Lua script touches one slot) while the
 * partitions spread over the shards.
 */
import { basePrefix, keysFor, type Keys } from './keys.js';

/** The largest partition count accepted: enough for any cluster (each partition costs workers per replica). */
export const MAX_PARTITIONS = 256;

/**
 * The partition that owns an id: FNV-1a (32 bit) of the id modulo the count. Stable across replicas, versions
 * and restarts (a different function would strand every tracked id), and ids are lower-cased UUIDs already.
 */
export function partitionOf(id: string, count: number): number {
  if (count <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i += 1) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % count;
}

/**
 * The key prefix of each partition. On a Cluster even one partition needs a hash tag (scripts touch several of
 * its keys), so an untagged prefix is tagged there; on a single Redis one partition keeps the prefix as given.
 */
export function partitionPrefixes(prefix: string, count: number, cluster = false): string[] {
  if (count <= 1) return [cluster && !/\{[^}]+\}/.test(prefix) ? `{${prefix}}` : prefix];
  const base = basePrefix(prefix);
  return Array.from({ length: count }, (_, p) => `{${base}:${p}}`);
}

/** Keys of every partition, in partition order. */
export function partitionKeys(prefix: string, count: number, cluster = false): Keys[] {
  return partitionPrefixes(prefix, count, cluster).map((p) => keysFor(p));
}

/** Groups ids by owning partition (index → ids, input order kept within each). */
export function groupByPartition(ids: readonly string[], count: number): Map<number, string[]> {
  const groups = new Map<number, string[]>();
  for (const id of ids) {
    const p = partitionOf(id, count);
    const group = groups.get(p);
    if (group) group.push(id);
    else groups.set(p, [id]);
  }
  return groups;
}

/**
 * One partition's share of a per-replica limit (poll concurrency, an endpoint's `maxInFlight`): the partitions
 * together stay at the limit, except that each keeps at least one slot.
 */
export function partitionShare(limit: number, count: number): number {
  return Math.max(1, Math.ceil(limit / count));
}
