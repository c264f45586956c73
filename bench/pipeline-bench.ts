import { performance } from 'node:perf_hooks';
import type { ChangeEvent, TrackedFields } from '../src/events/types.js';
import { keysFor, type Keys } from '../src/store/keys.js';
import { diff, fieldsOf } from '../src/sync/diff.js';
import { terminalSet } from '../src/shared/status.js';
import { createWebhookPipeline } from '../src/webhooks/pipeline.js';
import { GOAL_PER_SECOND } from './deliver-bench.js';
import { cleanupPrefix, commandStats, countRoundTrips, answerItem, logger, newPrefix, newRedis, redisCpuSeconds, SECRET, statsDelta, topCommands, total, uuidFor } from './env.js';
import { BenchReceiver, mainElu } from './receiver.js';
import { record } from './results.js';
import { fmt, fmtSummary, goalLine, line, note, rate, section, sleep, summarize } from './stats.js';
import type { Redis } from 'ioredis';
import { streamEntryFields } from '../src/events/stream.js';

const TERMINAL = terminalSet(['done', 'failed', 'rejected', 'cancelled']);
const RUN_LIMIT_MS = 45_000;

/**
 * `perLipsync` real events for each of `lipsyncs` ids, interleaved like successive poll cycles produce them
 * (event k of every lipsync, then event k+1): a lipsync.tracked, then progress changes.
 */
export function makeEvents(lipsyncs: number, perLipsync: number, salt: number): ChangeEvent[][] {
  const rounds: ChangeEvent[][] = Array.from({ length: perLipsync }, () => []);
  const now = new Date();
  for (let l = 0; l < lipsyncs; l += 1) {
    const id = uuidFor(l, salt);
    let previous: TrackedFields | null = null;
    for (let k = 0; k < perLipsync; k += 1) {
      const item = answerItem(id, { status: 'running', progress: (k / perLipsync).toFixed(3) });
      const [event] = diff(previous, item, { terminalStatuses: TERMINAL, now, epoch: 0, sequence: k }).events;
      if (event !== undefined) rounds[k]?.push(event);
      previous = fieldsOf(item);
    }
  }
  return rounds;
}

/** XADD exactly the fields applyBatch.lua writes, pipelined 1,000 at a time. */
export async function appendEvents(redis: Redis, keys: Keys, rounds: readonly ChangeEvent[][]): Promise<number> {
  let appended = 0;
  let pipeline = redis.pipeline();
  let queued = 0;
  for (const round of rounds) {
    for (const ev of round) {
      pipeline.xadd(keys.events, '*', ...streamEntryFields(ev));
      queued += 1;
      if (queued === 1000) {
        await pipeline.exec();
        appended += queued;
        pipeline = redis.pipeline();
        queued = 0;
      }
    }
  }
  if (queued > 0) {
    await pipeline.exec();
    appended += queued;
  }
  return appended;
}

/** A fresh key prefix and the three connections a pipeline run uses (commands, BullMQ, the bench's own). */
async function openConnections(tag: string) {
  const prefix = newPrefix(tag);
  const connections = { prefix, keys: keysFor(prefix), redis: newRedis('pipe'), bull: newRedis('pipe-bull'), admin: newRedis('pipe-admin') };
  await Promise.all([connections.redis.ping(), connections.bull.ping(), connections.admin.ping()]);
  return connections;
}

interface PipelineRun {
  perSecond: number;
}

async function runPipeline(receiver: BenchReceiver, options: { lipsyncs: number; perLipsync: number; concurrency: number; tag: string }): Promise<PipelineRun> {
  const { lipsyncs, perLipsync, concurrency } = options;
  const total_ = lipsyncs * perLipsync;
  const { prefix, keys, redis, bull, admin } = await openConnections(`pipe-${options.tag}`);
  try {
    const trips = [countRoundTrips(redis), countRoundTrips(bull)];
    const appended = await appendEvents(admin, keys, makeEvents(lipsyncs, perLipsync, 0x4000 + concurrency));
    await receiver.flush();
    receiver.reset();
    const pipeline = createWebhookPipeline({
      redis,
      connection: bull,
      keys,
      endpoints: [{ name: 'bench', url: `${receiver.url}/hook`, secret: SECRET, timeoutMs: 10_000 }],
      delivery: { retryScheduleSeconds: [1, 5, 30], concurrency },
      logger,
    });
    const [statsBefore, cpuBefore] = await Promise.all([commandStats(admin), redisCpuSeconds(admin)]);
    for (const t of trips) t.reset();
    const elu = mainElu();
    const receiverElu = receiver.eventLoopUtilization();
    const startedWall = Date.now();
    const started = performance.now();
    pipeline.start();
    // The dispatcher's share: how long until every stream entry was handed off (acknowledged and deleted).
    let handedOffMs = Number.NaN;
    const watchStream = (async () => {
      while (performance.now() - started < RUN_LIMIT_MS) {
        if ((await admin.xlen(keys.events)) === 0) {
          handedOffMs = performance.now() - started;
          return;
        }
        await sleep(25);
      }
    })();
    const complete = await receiver.waitForUnique(appended, RUN_LIMIT_MS);
    const waitedMs = performance.now() - started;
    await watchStream;
    await receiver.flush();
    const busy = mainElu(elu).utilization;
    const receiverBusy = receiverElu === null ? null : (receiver.eventLoopUtilization(receiverElu)?.utilization ?? null);
    const [statsAfter, cpuAfter] = await Promise.all([commandStats(admin), redisCpuSeconds(admin)]);
    const roundTrips = trips.reduce((sum, t) => sum + t.count, 0);
    const deadLetters = await pipeline.deadLetters.count();
    await pipeline.close(5000);

    const unique = receiver.unique;
    const elapsedMs = complete ? Math.max(1, receiver.lastReceivedAt - startedWall) : waitedMs;
    const perSecond = rate(unique, elapsedMs);
    const commands = statsDelta(statsBefore, statsAfter);
    commands.delete('info');
    commands.delete('xlen');
    const latencies = receiver.records.map((r) => r.receivedAt - startedWall);
    const partial = complete ? '' : ` PARTIAL: ${fmt(unique)}/${fmt(appended)} within ${RUN_LIMIT_MS / 1000} s`;
    line(`pipeline, concurrency ${concurrency}, ${fmt(total_)} events / ${fmt(lipsyncs)} lipsyncs`, `${fmt(perSecond)} /s`, `all received after ${fmt(elapsedMs / 1000, 2)} s${partial}; ${fmt(receiver.counts.requests - unique)} duplicates, ${fmt(Object.values(deadLetters).reduce((a, b) => a + b, 0))} dead letters`);
    line('    stream fully handed off (dispatcher) after', `${fmt(handedOffMs / 1000, 2)} s`, `${fmt(rate(appended, handedOffMs))} entries/s read, handed off, acked, deleted`);
    line('    time from start to receipt (backlog drain)', '', fmtSummary(summarize(latencies), 'ms', 0));
    line('    Redis round trips per delivery (client)', fmt(roundTrips / Math.max(1, unique), 1), 'commands + BullMQ connections, not counting their blocking duplicates; each is a socket write');
    line('    Redis commands per delivery (server, incl. Lua)', fmt(total(commands) / Math.max(1, unique), 1), topCommands(commands, Math.max(1, unique), 7, ['info', 'xlen']));
    line('    CPU busy: daemon loop / receiver loop / Redis', `${fmt(busy * 100)}/${receiverBusy === null ? '?' : fmt(receiverBusy * 100)}/${fmt(((cpuAfter - cpuBefore) * 100_000) / waitedMs)} %`, 'event-loop utilisation; Redis = server CPU time / wall');
    return { perSecond };
  } finally {
    await cleanupPrefix(prefix);
    await Promise.allSettled([redis.quit(), bull.quit(), admin.quit()]);
  }
}

/** One event at a time into an idle pipeline: XADD → received, the pipeline's own latency floor. */
async function idleLatency(receiver: BenchReceiver, count: number): Promise<void> {
  const { prefix, keys, redis, bull, admin } = await openConnections('pipe-idle');
  try {
    const pipeline = createWebhookPipeline({
      redis,
      connection: bull,
      keys,
      endpoints: [{ name: 'bench', url: `${receiver.url}/hook`, secret: SECRET, timeoutMs: 10_000 }],
      delivery: { retryScheduleSeconds: [1, 5, 30], concurrency: 100 },
      logger,
    });
    pipeline.start();
    const rounds = makeEvents(count, 1, 0x4900);
    const events = rounds[0] ?? [];
    const latencies: number[] = [];
    await receiver.flush();
    receiver.reset();
    for (const [i, event] of events.entries()) {
      const sentAt = Date.now();
      await appendEvents(admin, keys, [[event]]);
      if (!(await receiver.waitForUnique(i + 1, 5000))) break;
      await receiver.flush();
      const record = receiver.records.find((r) => r.id === event.id);
      if (record !== undefined) latencies.push(record.receivedAt - sentAt);
      await sleep(20);
    }
    await pipeline.close(5000);
    line(`idle pipeline: XADD → received, ${fmt(latencies.length)} single events`, `p50 ${fmt(summarize(latencies).p50)} ms`, fmtSummary(summarize(latencies), 'ms', 0));
  } finally {
    await cleanupPrefix(prefix);
    await Promise.allSettled([redis.quit(), bull.quit(), admin.quit()]);
  }
}

export async function benchPipeline(): Promise<void> {
  section('4. signed deliveries per second through the durable pipeline (stream → dispatcher → BullMQ → deliverer)');
  const receiver = await BenchReceiver.start({ secret: SECRET, parseBodies: false, verifyEvery: 97, keepRecords: true });
  try {
    const main = await runPipeline(receiver, { lipsyncs: 1000, perLipsync: 20, concurrency: 100, tag: 'c100' });
    goalLine(`goal ${GOAL_PER_SECOND}/s (durable pipeline, concurrency 100)`, main.perSecond, GOAL_PER_SECOND);
    record('pipeline_deliveries_per_s', Math.round(main.perSecond));
    await runPipeline(receiver, { lipsyncs: 250, perLipsync: 20, concurrency: 50, tag: 'c50' });
    await runPipeline(receiver, { lipsyncs: 250, perLipsync: 20, concurrency: 200, tag: 'c200' });
    await runPipeline(receiver, { lipsyncs: 5000, perLipsync: 1, concurrency: 100, tag: 'c100-flat' });
    await idleLatency(receiver, 30);
    line('signatures verified (1 in 97 sampled, all runs)', `${fmt(receiver.verifiedTotal)} ok`, receiver.verifyFailedTotal === 0 ? '0 failed' : `${fmt(receiver.verifyFailedTotal)} FAILED: ${receiver.counts.firstFailure ?? ''}`);
    note('events are appended before the pipeline starts (a backlog); per (endpoint, lipsync) FIFO order allows one delivery in flight per lipsync');
    note('the last run has one event per lipsync: no FIFO serialisation, so it shows the per-delivery cost alone');
  } finally {
    await receiver.stop();
  }
}
