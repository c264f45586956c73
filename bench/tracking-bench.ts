import { performance } from 'node:perf_hooks';
import { keysFor } from '../src/store/keys.js';
import { TrackingStore } from '../src/store/tracking.js';
import { cleanupPrefix, collectGarbage, newPrefix, newRedis, redisCpuSeconds, redisInfo, uuidFor } from './env.js';
import { fmt, line, mb, mbDelta, note, rate, section } from './stats.js';

const TOTAL = 1_000_000;
const CHUNK = 10_000;
const LIMIT_MS = 60_000;

export async function benchTracking(): Promise<void> {
  section(`6. tracking ${fmt(TOTAL)} ids (TrackingStore.track in arrays of ${fmt(CHUNK)}; the store writes 1,000 per Lua call)`);
  const prefix = newPrefix('track');
  const keys = keysFor(prefix);
  const redis = newRedis('track');
  let cleaned = false;
  try {
    await redis.ping();
    const store = new TrackingStore(redis, keys, 3600);
    const gc = collectGarbage();
    const before = process.memoryUsage();
    const redisBefore = Number((await redisInfo(redis, 'memory', 'used_memory')) ?? 0);
    const cpuBefore = await redisCpuSeconds(redis);
    let peakRss = before.rss;
    let peakHeap = before.heapUsed;
    let tracked = 0;
    const started = performance.now();
    for (let offset = 0; offset < TOTAL && performance.now() - started < LIMIT_MS; offset += CHUNK) {
      const part: string[] = [];
      for (let i = offset; i < Math.min(TOTAL, offset + CHUNK); i += 1) part.push(uuidFor(i, 0x6000));
      const codes = await store.track(part);
      for (const code of codes.values()) if (code === 'tracked') tracked += 1;
      const now = process.memoryUsage();
      peakRss = Math.max(peakRss, now.rss);
      peakHeap = Math.max(peakHeap, now.heapUsed);
    }
    const ms = performance.now() - started;
    const cpuAfter = await redisCpuSeconds(redis);
    collectGarbage();
    const after = process.memoryUsage();
    const redisAfter = Number((await redisInfo(redis, 'memory', 'used_memory')) ?? 0);
    const pending = await store.pendingCount();

    const partial = tracked < TOTAL ? ` PARTIAL: time limit ${LIMIT_MS / 1000} s` : '';
    line(`track ${fmt(TOTAL)} ids`, `${fmt(rate(tracked, ms))} ids/s`, `${fmt(tracked)} tracked in ${fmt(ms / 1000, 2)} s; pending set holds ${fmt(pending)}${partial}`);
    line('    process RSS: after − before / peak − before', `${mbDelta(after.rss - before.rss)} / ${mbDelta(peakRss - before.rss)}`, `${mb(before.rss)} → ${mb(after.rss)}, peak ${mb(peakRss)} (before includes earlier sections' leftovers)`);
    line('    process heapUsed: after − before / peak − before', `${mbDelta(after.heapUsed - before.heapUsed)} / ${mbDelta(peakHeap - before.heapUsed)}`, `${mb(before.heapUsed)} → ${mb(after.heapUsed)}, peak ${mb(peakHeap)}${gc ? '; before/after measured after a forced GC' : '; no forced GC available'}`);
    line('    Redis used_memory added', mb(redisAfter - redisBefore), `${fmt((redisAfter - redisBefore) / Math.max(1, tracked))} bytes per tracked id (pending zset entry + state hash)`);
    line('    Redis CPU during track', `${fmt(((cpuAfter - cpuBefore) * 100_000) / ms)} %`, 'server CPU time / wall');

    const deleteStarted = performance.now();
    const deleted = await cleanupPrefix(prefix);
    cleaned = true;
    const deleteMs = performance.now() - deleteStarted;
    line('delete them again (deleteKeys: SCAN + UNLINK)', `${fmt(rate(deleted, deleteMs))} keys/s`, `${fmt(deleted)} keys in ${fmt(deleteMs / 1000, 2)} s`);
    note('flat client memory means track() streams: only the current 10,000-id array and its result map are held');
  } finally {
    if (!cleaned) await cleanupPrefix(prefix);
    await redis.quit().catch(() => undefined);
  }
}
