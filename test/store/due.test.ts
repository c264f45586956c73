import { applyBatch, readStates } from '../../src/store/apply.js';
import { keysFor } from '../../src/store/keys.js';
import { TrackingStore } from '../../src/store/tracking.js';
import { uuid } from '../helpers/lipsync.js';
import { cleanupPrefix, newRedis, uniquePrefix } from '../helpers/redis.js';

const prefix = uniquePrefix('due');
const keys = keysFor(prefix);
const redis = newRedis();
const store = new TrackingStore(redis, keys, 600);

afterAll(async () => {
  await cleanupPrefix(prefix);
  await redis.quit();
});

beforeEach(async () => {
  await redis.del(keys.pending, keys.due, keys.statusCounts, keys.seen);
});

/** The due set as id → ms. */
async function due(): Promise<Record<string, number>> {
  const flat = await redis.zrange(keys.due, 0, -1, 'WITHSCORES');
  const out: Record<string, number> = {};
  for (let i = 0; i < flat.length; i += 2) out[flat[i] ?? ''] = Number(flat[i + 1]);
  return out;
}

describe('the due set (poll.cadence) follows the pending set', () => {
  it('makes a tracked id due now and drops an untracked one', async () => {
    const [a, b] = [uuid(9500), uuid(9501)];
    await store.track([a, b], 1000);
    expect(await due()).toEqual({ [a]: 1000, [b]: 1000 });
    await store.untrack([a]);
    expect(await due()).toEqual({ [b]: 1000 });
  });

  it('moves due times in the apply step, never re-adds an untracked id, and drops an id that leaves pending', async () => {
    const [a, b, c] = [uuid(9510), uuid(9511), uuid(9512)];
    await store.track([a, b, c], 1000);
    await store.untrack([b]);
    const states = await readStates(redis, keys, [c]);
    const finished = { id: c, rev: states.get(c)?.rev ?? 0, set: { status: 'done' }, del: [], events: [], from: 'new', to: 'done', remove: true, terminal: true };
    await applyBatch(redis, keys, { ops: [finished], seen: [a, b, c], now: 2000, due: [[a, 5000], [b, 5000], [c, 5000]] }, 600);
    expect(await due()).toEqual({ [a]: 5000 });
    // Without cadence (no due times) the apply step leaves due times alone.
    await applyBatch(redis, keys, { ops: [], seen: [a], now: 3000 }, 600);
    expect(await due()).toEqual({ [a]: 5000 });
  });

  it('reconciles with pending at start: missing ids become due at once, ids no longer pending go, due times stay', async () => {
    const [a, b] = [uuid(9520), uuid(9521)];
    await store.track([a], 1000);
    await redis.zadd(keys.due, 7000, a);
    await redis.zadd(keys.pending, 1000, b); // tracked by a version that kept no due set
    await redis.zadd(keys.due, 4000, uuid(9522)); // left behind: not pending
    await store.reconcileDue();
    expect(await due()).toEqual({ [b]: 0, [a]: 7000 });
  });

  it('pages due ids most overdue first, only those due by the horizon, up to the limit', async () => {
    const ids = [uuid(9530), uuid(9531), uuid(9532), uuid(9533)];
    await store.track(ids, 1000);
    await redis.zadd(keys.due, 300, ids[0] ?? '', 100, ids[1] ?? '', 200, ids[2] ?? '', 9000, ids[3] ?? '');
    const pages: string[][] = [];
    for await (const page of store.dueIds(5000, 3, 2)) pages.push(page);
    expect(pages).toEqual([[ids[1], ids[2]], [ids[0]]]);
  });
});
