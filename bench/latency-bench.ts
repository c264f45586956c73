import { loadConfig } from '../src/config/load.js';
import type { Lipsync } from '../src/creatify/schema.js';
import { startDaemon } from '../src/daemon.js';
import type { Redis } from 'ioredis';
import { keysFor } from '../src/store/keys.js';
import { cleanupPrefix, logger, newPrefix, newRedis, REDIS_URL, SECRET, uuidFor } from './env.js';
import type { ReceivedRecord } from './receiver-core.js';
import { BenchReceiver, mainElu } from './receiver.js';
import { BenchSimulator } from './simulator.js';
import { fmt, fmtSummary, line, note, section, summarize } from './stats.js';

const IDS = 2000;
const POLL_INTERVAL_MS = 500;
const PHASE_LIMIT_MS = 30_000;

/**
 * Watches the events stream with plain XREAD (no consumer group, so the daemon is not disturbed) and keeps,
 * per event id, the Redis-assigned entry time: it splits the latency into "detected → appended" and
 * "appended → delivered". Entries the dispatcher deletes before this reader sees them are simply missing.
 */
class StreamTap {
  readonly appendedAt = new Map<string, number>();
  private stopping = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {}

  start(): void {
    this.loop = (async () => {
      let last = '$';
      while (!this.stopping) {
        const reply = await this.redis.xread('COUNT', 1000, 'BLOCK', 200, 'STREAMS', this.key, last).catch(() => null);
        for (const [, entries] of reply ?? []) {
          for (const [streamId, fields] of entries) {
            last = streamId;
            const idIndex = fields.indexOf('id');
            const eventId = idIndex >= 0 ? fields[idIndex + 1] : undefined;
            if (eventId !== undefined) this.appendedAt.set(eventId, Number(streamId.split('-')[0]));
          }
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }
}

export async function benchLatency(): Promise<void> {
  section(`5. change detected → delivered, full startDaemon (${fmt(IDS)} ids, poll every ${POLL_INTERVAL_MS} ms, simulator + receiver in worker threads)`);
  const prefix = newPrefix('latency');
  const simulator = await BenchSimulator.start(5);
  const receiver = await BenchReceiver.start({ secret: SECRET, parseBodies: true, verifyEvery: 50, keepRecords: true });
  const ids = Array.from({ length: IDS }, (_, i) => uuidFor(i, 0x5000));
  const indexOf = new Map(ids.map((id, i) => [id, i]));
  await simulator.set(ids, { status: 'pending', progress: '0' });

  const { config } = loadConfig({
    env: {},
    overrides: {
      creatify: { simulator: true, maxRequestsPerSecond: 1000 },
      redis: { url: REDIS_URL, prefix },
      poll: { intervalMs: POLL_INTERVAL_MS },
      webhooks: [{ name: 'bench', url: `${receiver.url}/hook`, secret: SECRET }],
      http: { enabled: false },
      log: { level: 'silent' },
    },
  });
  const daemon = await startDaemon(config, logger, { creatifyBaseUrl: simulator.baseUrl });
  const tapRedis = newRedis('latency-tap');
  const tap = new StreamTap(tapRedis, keysFor(prefix).events);
  tap.start();
  try {
    line('config', `${config.poll.concurrency} × ${config.poll.batchSize}`, `poll concurrency × batch size; delivery concurrency ${config.delivery.concurrency}; rate limit ${config.creatify.maxRequestsPerSecond} req/s`);
    /** Waits for `expected` deliveries; `changedAt[i]` is when id i changed upstream (tracked: when track() was called). */
    const phase = async (label: string, expected: number, act: () => Promise<number[]>): Promise<void> => {
      await receiver.flush();
      receiver.reset();
      const elu = mainElu();
      const started = Date.now();
      const changedAt = await act();
      const complete = await receiver.waitForUnique(expected, PHASE_LIMIT_MS);
      await receiver.flush();
      const busy = mainElu(elu).utilization;
      const records = firstPerId(receiver.records);
      const detected = records.map((r) => r.receivedAt - r.createdAt).filter((v) => Number.isFinite(v));
      const upstream = records.map((r) => r.receivedAt - (changedAt[indexOf.get(r.lipsyncId) ?? -1] ?? Number.NaN)).filter((v) => Number.isFinite(v));
      const types = new Map<string, number>();
      for (const r of records) types.set(r.type, (types.get(r.type) ?? 0) + 1);
      const typeText = [...types].map(([t, n]) => `${fmt(n)} ${t}`).join(', ');
      const partial = complete ? '' : ` PARTIAL: ${fmt(records.length)}/${fmt(expected)} within ${PHASE_LIMIT_MS / 1000} s`;
      line(`${label}`, `${fmt(records.length)} events`, `${typeText}; last received ${fmt((receiver.lastReceivedAt - started) / 1000, 2)} s after the change${partial}`);
      line('    detected → delivered (created_at → received)', `p99 ${fmt(summarize(detected).p99)} ms`, fmtSummary(summarize(detected), 'ms', 0));
      const toStream: number[] = [];
      const fromStream: number[] = [];
      for (const r of records) {
        const appended = tap.appendedAt.get(r.id);
        if (appended === undefined) continue;
        toStream.push(appended - r.createdAt);
        fromStream.push(r.receivedAt - appended);
      }
      line('      = detected → in stream (poll batch finishes)', `p99 ${fmt(summarize(toStream).p99)} ms`, `${fmtSummary(summarize(toStream), 'ms', 0)}  (${fmt(toStream.length)} seen)`);
      line('      + in stream → delivered (webhook pipeline)', `p99 ${fmt(summarize(fromStream).p99)} ms`, fmtSummary(summarize(fromStream), 'ms', 0));
      line('    upstream change → delivered (incl. poll wait)', `p99 ${fmt(summarize(upstream).p99)} ms`, fmtSummary(summarize(upstream), 'ms', 0));
      line('    daemon event loop busy during the phase', `${fmt(busy * 100)} %`, `${fmt(receiver.counts.requests - records.length)} duplicate deliveries`);
    };

    await phase('first sighting: track() → lipsync.tracked', IDS, async () => {
      const at = Date.now();
      await daemon.store.track(ids);
      return ids.map(() => at);
    });
    const light = ids.slice(0, 50);
    await phase(`light load: ${light.length} ids change progress`, light.length, async () => {
      const at = await simulator.set(light, { progress: '0.1' });
      return ids.map((_, i) => at[i] ?? Number.NaN);
    });
    await phase(`burst: all ${fmt(IDS)} flip pending → running`, IDS, () => simulator.set(ids, { status: 'running', progress: '0.5' } satisfies Partial<Lipsync>));
    await phase(`burst: all ${fmt(IDS)} flip running → done (2 events each)`, 2 * IDS, () => simulator.set(ids, { status: 'done', progress: '1', output: 'https://cdn.example/out.mp4' }));
    line('signatures verified (1 in 50 sampled)', `${fmt(receiver.counts.verified)} ok`, receiver.counts.verifyFailed === 0 ? '0 failed' : `${fmt(receiver.counts.verifyFailed)} FAILED: ${receiver.counts.firstFailure ?? ''}`);
    note('created_at is stamped when the poll answer is diffed, so "detected → delivered" excludes the poll interval;');
    note('"in stream" is the Redis time of the XADD (stream entry id), read by a side XREAD that does not join the consumer group');
    note(`"upstream change → delivered" adds the wait for the next poll (≤ ${POLL_INTERVAL_MS} ms interval + the cycle itself)`);
  } finally {
    await tap.stop();
    tapRedis.disconnect();
    await daemon.stop();
    await Promise.all([simulator.stop(), receiver.stop()]);
    await cleanupPrefix(prefix);
  }
}

/** The first receipt of each webhook-id (later ones are at-least-once duplicates). */
function firstPerId(records: readonly ReceivedRecord[]): ReceivedRecord[] {
  const seen = new Set<string>();
  const out: ReceivedRecord[] = [];
  for (const r of records) {
    if (seen.has(r.id)) continue;
    seen.add(r.id);
    out.push(r);
  }
  return out;
}
