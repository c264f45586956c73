import { keysFor } from '../../src/store/keys.js';
import { groupByPartition, partitionKeys, partitionOf, partitionPrefixes, partitionShare } from '../../src/store/partitions.js';
import { uuid } from '../helpers/lipsync.js';

describe('partitionOf', () => {
  it('is 0 for one partition and stable for a given id and count (FNV-1a: moving ids strands them)', () => {
    expect(partitionOf('5f4e2c1a-0000-4000-8000-000000000001', 1)).toBe(0);
    // Pinned values: a change of hash function would silently move every tracked id to another partition.
    expect(partitionOf('a', 1000)).toBe(0xe40c292c % 1000);
    expect(partitionOf('00000000-0000-4000-8000-000000000000', 16)).toBe(partitionOf('00000000-0000-4000-8000-000000000000', 16));
  });

  it('spreads 8,000 ids over 8 partitions within 10 % of even', () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 8000; i += 1) counts[partitionOf(uuid(i), 8)]! += 1;
    for (const n of counts) expect(Math.abs(n - 1000)).toBeLessThan(100);
  });

  it('groups ids by owner, keeping their order within a partition', () => {
    const ids = Array.from({ length: 50 }, (_, i) => uuid(i));
    const groups = groupByPartition(ids, 3);
    expect([...groups.values()].flat().sort()).toEqual([...ids].sort());
    for (const [p, group] of groups) {
      expect(group.every((id) => partitionOf(id, 3) === p)).toBe(true);
      expect(group).toEqual(ids.filter((id) => partitionOf(id, 3) === p));
    }
  });
});

describe('partition prefixes and keys', () => {
  it('keeps the prefix as given for one partition on a single Redis (SPEC names unchanged)', () => {
    expect(partitionPrefixes('lsync', 1)).toEqual(['lsync']);
    expect(partitionKeys('lsync', 1)[0]).toMatchObject({ pending: 'lsync:pending', pollQueue: 'lsync-poll' });
  });

  it('hash-tags one partition on a Cluster unless the prefix already has a tag', () => {
    expect(partitionPrefixes('lsync', 1, true)).toEqual(['{lsync}']);
    expect(partitionPrefixes('{lsync}', 1, true)).toEqual(['{lsync}']);
  });

  it('puts partition p under {prefix:p}, with BullMQ-legal queue names in the same slot', () => {
    expect(partitionPrefixes('lsync', 3)).toEqual(['{lsync:0}', '{lsync:1}', '{lsync:2}']);
    expect(partitionPrefixes('{lsync}', 2)).toEqual(['{lsync:0}', '{lsync:1}']);
    const keys = keysFor('{lsync:2}');
    expect(keys.pending).toBe('{lsync:2}:pending');
    expect(keys.state('x')).toBe('{lsync:2}:state:x');
    expect(keys.bullPrefix).toBe('{lsync:2}');
    expect(keys.pollQueue).toBe('lsync-2-poll');
    expect(keys.webhookEndpointQueue('ops')).toBe('lsync-2-webhooks-ops');
  });

  it('shares a per-replica limit out among partitions, at least one each', () => {
    expect(partitionShare(4, 1)).toBe(4);
    expect(partitionShare(4, 3)).toBe(2);
    expect(partitionShare(4, 16)).toBe(1);
  });
});
