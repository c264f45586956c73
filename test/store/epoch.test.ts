import { classifyEpoch, describeLoss, EpochWatch, newEpoch, type DataLoss } from '../../src/store/epoch.js';
import { keysFor } from '../../src/store/keys.js';
import { cleanupPrefix, newRedis, uniquePrefix } from '../helpers/redis.js';

const prefix = uniquePrefix('epoch');
const keys = keysFor(prefix);
const redis = newRedis();

afterAll(async () => {
  await cleanupPrefix(prefix);
  await redis.quit();
});

describe('classifyEpoch', () => {
  it('tells a first start, a known data set and a lost one apart', () => {
    expect(classifyEpoch(null, 'e1', true)).toBe('first-start');
    expect(classifyEpoch(null, 'e1', false)).toBe('same');
    expect(classifyEpoch('e1', 'e1', false)).toBe('same');
    expect(classifyEpoch('e1', 'e2', true)).toBe('lost');
    expect(classifyEpoch('e1', 'e2', false)).toBe('lost');
  });

  it('describes a loss in one line with its time and what to do', () => {
    expect(describeLoss({ at: Date.UTC(2026, 0, 2, 3, 4, 5), previous: 'e1' })).toBe(
      'Redis came back without our data at 2026-01-02T03:04:05.000Z (epoch key missing or replaced): ids tracked and deliveries queued before then are lost; re-track them and check receivers for gaps',
    );
  });

  it('makes a new epoch per call, led by its creation time', () => {
    expect(newEpoch(1234)).toMatch(/^1234-[0-9a-f]{12}$/);
    expect(newEpoch(1234)).not.toBe(newEpoch(1234));
  });
});

describe('EpochWatch (real Redis)', () => {
  it('writes the epoch at first start, then reports a deleted epoch exactly once and re-writes it', async () => {
    const losses: DataLoss[] = [];
    let now = 1_000;
    const watch = new EpochWatch(redis, keys, (loss) => losses.push(loss), () => now);
    expect(await watch.check()).toBe('first-start');
    const first = await redis.get(keys.epoch);
    expect(first).toMatch(/^1000-/);
    expect(await watch.check()).toBe('same');

    // A second replica joining the same data set sees it as known, not as a first start.
    const other = new EpochWatch(redis, keys, (loss) => losses.push(loss));
    expect(await other.check()).toBe('same');

    await redis.del(keys.epoch); // what FLUSHALL or an empty failover does to us
    now = 2_000;
    expect(await watch.check()).toBe('lost');
    expect(losses).toEqual([{ at: 2_000, previous: first }]);
    expect(watch.lastLoss).toEqual({ at: 2_000, previous: first });
    expect(await redis.get(keys.epoch)).toMatch(/^2000-/);
    expect(await watch.check()).toBe('same');
    expect(losses).toHaveLength(1);

    // The other replica finds the re-written epoch differs from the one it knew: its own single report.
    expect(await other.check()).toBe('lost');
    expect(await other.check()).toBe('same');
    expect(losses).toHaveLength(2);
  });
});
