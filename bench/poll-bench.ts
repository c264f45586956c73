import { performance } from 'node:perf_hooks';
import { DEFAULTS } from '../src/config/schema.js';
import { CreatifyClient } from '../src/creatify/client.js';
import { keysFor } from '../src/store/keys.js';
import { TrackingStore } from '../src/store/tracking.js';
import { chunk } from '../src/shared/chunk.js';
import { NOOP_OBSERVER } from '../src/sync/observer.js';
import { pollBatch, type PollBatchDeps } from '../src/sync/poll-batch.js';
import { terminalSet } from '../src/shared/status.js';
import { cleanupPrefix, commandStats, countRoundTrips, forEachConcurrent, logger, newPrefix, newRedis, redisCpuSeconds, statsDelta, topCommands, total, uuidFor } from './env.js';
import { mainElu } from './receiver.js';
import { BenchSimulator } from './simulator.js';
import { fmt, line, note, rate, section } from './stats.js';

const IDS = 20_000;
const PASS_DEADLINE_MS = 20_000;

export async function benchPoll(): Promise<void> {
  section(`2. poll throughput end to end (${fmt(IDS)} tracked ids; pollBatch = HTTP list → readStates → planBatch → applyBatch.lua)`);
  const prefix = newPrefix('poll');
  const keys = keysFor(prefix);
  const redis = newRedis('poll');
  const admin = newRedis('poll-admin');
  const simulator = await BenchSimulator.start(2);
  const client = new CreatifyClient({ baseUrl: simulator.baseUrl, timeoutMs: 10_000, retries: 0, maxResponseBytes: DEFAULTS.creatifyMaxResponseBytes, userAgent: 'lipsync-sync-bench' });
  try {
    await Promise.all([redis.ping(), admin.ping()]);
    const ids = Array.from({ length: IDS }, (_, i) => uuidFor(i, 0x2000));
    await simulator.set(ids, { status: 'pending', progress: '0' });

    const store = new TrackingStore(redis, keys, 3600);
    const trackStarted = performance.now();
    await store.track(ids);
    const trackMs = performance.now() - trackStarted;
    line(`TrackingStore.track(${fmt(IDS)} ids)`, `${fmt(rate(IDS, trackMs))} ids/s`, `${fmt(trackMs)} ms`);

    const deps: PollBatchDeps = {
      redis,
      keys,
      client,
      observer: NOOP_OBSERVER,
      logger,
      terminalStatuses: terminalSet(['done', 'failed', 'rejected', 'cancelled']),
      missingGraceCycles: 3,
      retentionSeconds: 3600,
    };
    const batches = chunk(ids, 100);
    const roundTrips = countRoundTrips(redis);

    const pass = async (label: string, concurrency: number, work: (batch: string[]) => Promise<number>, options: { repeats?: number; before?: () => Promise<void> } = {}): Promise<void> => {
      const repeats = options.repeats ?? 3;
      const runs: Array<{ idsPerSecond: number; batchesPerSecond: number; ms: number; events: number; done: number }> = [];
      let roundTripSum = 0;
      let commandsAll = new Map<string, number>();
      let batchesAll = 0;
      let elu = 0;
      let simElu = 0;
      let redisCpu = 0;
      let wall = 0;
      for (let r = 0; r < repeats; r += 1) {
        await options.before?.();
        roundTrips.reset();
        const [statsBefore, cpuBefore] = await Promise.all([commandStats(admin), redisCpuSeconds(admin)]);
        const eluStart = mainElu();
        const simEluStart = simulator.eventLoopUtilization();
        let events = 0;
        const started = performance.now();
        const done = await forEachConcurrent(batches, concurrency, async (batch) => {
          const appended = await work(batch);
          events += appended;
        }, started + PASS_DEADLINE_MS);
        const ms = performance.now() - started;
        elu += mainElu(eluStart).utilization * ms;
        simElu += simulator.eventLoopUtilization(simEluStart).utilization * ms;
        const [statsAfter, cpuAfter] = await Promise.all([commandStats(admin), redisCpuSeconds(admin)]);
        redisCpu += (cpuAfter - cpuBefore) * 1000;
        wall += ms;
        const delta = statsDelta(statsBefore, statsAfter);
        delta.delete('info');
        for (const [cmd, calls] of delta) commandsAll.set(cmd, (commandsAll.get(cmd) ?? 0) + calls);
        roundTripSum += roundTrips.count;
        batchesAll += done;
        const polled = Math.min(IDS, done * 100);
        runs.push({ idsPerSecond: rate(polled, ms), batchesPerSecond: rate(done, ms), ms, events, done });
      }
      commandsAll = new Map([...commandsAll]);
      const sorted = [...runs].sort((a, b) => a.idsPerSecond - b.idsPerSecond);
      const median = sorted[Math.floor(sorted.length / 2)] ?? sorted[0];
      if (median === undefined) return;
      const partial = runs.some((r) => r.done < batches.length) ? ` PARTIAL (time limit ${PASS_DEADLINE_MS / 1000} s)` : '';
      const range = repeats > 1 ? `, range ${fmt(sorted[0]?.idsPerSecond ?? 0)}–${fmt(sorted[sorted.length - 1]?.idsPerSecond ?? 0)} over ${repeats} runs` : '';
      line(`${label}, conc. ${concurrency}`, `${fmt(median.idsPerSecond)} ids/s`, `${fmt(median.batchesPerSecond)} batches/s, ${fmt(median.ms)} ms/pass, ${fmt(median.events)} events/pass${range}${partial}`);
      const per = Math.max(1, batchesAll);
      if (roundTripSum > 0) {
        line('    Redis round trips per batch (client, counted)', fmt(roundTripSum / per, 2), 'one per command sent alone; a pipeline or MULTI counts once');
        line('    Redis commands per batch (server, incl. in Lua)', fmt(total(commandsAll) / per, 1), topCommands(commandsAll, per));
      }
      line('    CPU busy: poller loop / simulator loop / Redis', `${fmt((elu / wall) * 100)}/${fmt((simElu / wall) * 100)}/${fmt((redisCpu / wall) * 100)} %`, 'event-loop utilisation; Redis = server CPU time / wall');
    };

    // Warm-up and first sighting in one: every id is new, so every answered item appends lipsync.tracked.
    await pass('pollBatch, first sighting (every id → lipsync.tracked)', 4, async (batch) => (await pollBatch(batch, deps)).events, { repeats: 1 });
    let round = 0;
    const flip = async (): Promise<void> => {
      round += 1;
      await simulator.set(ids.filter((_, i) => i % 10 === round % 10), { progress: `0.${round}` });
    };
    const poll = async (batch: string[]): Promise<number> => (await pollBatch(batch, deps)).events;
    await pass('pollBatch, steady (0% changed)', 4, poll);
    await pass('pollBatch, steady (10% progress changed)', 4, poll, { before: flip });
    await pass('pollBatch, steady (10% progress changed)', 16, poll, { before: flip });
    await pass('upstream only: client.list (HTTP + zod), no Redis', 4, async (batch) => {
      await client.list(batch);
      return 0;
    });
    const streamLength = await admin.xlen(keys.events);
    line('events appended to the stream in total', fmt(streamLength), `expected ${fmt(IDS + round * (IDS / 10))}`);
    note('the simulator runs in its own worker thread (real HTTP over loopback); Redis, poller and simulator share 2 cores');
    note('server command counts come from INFO commandstats deltas: server-wide, so other Redis clients would inflate them');
  } finally {
    client.close();
    await simulator.stop();
    await cleanupPrefix(prefix);
    await Promise.allSettled([redis.quit(), admin.quit()]);
  }
}
