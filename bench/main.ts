/**
 * `npm run bench` (all sections) or `npx tsx bench/main.ts 2 4` (only some); `--json` adds one JSON line of the
 * headline figures as the last stdout line (bench/results.ts). Sections 1–9 use the Redis at REDIS_URL (default
 * redis://127.0.0.1:6379), every key under `bench-<pid>-*`, deleted at the end; sections 10–12 run built worker
 * processes against a private redis-server. Only loopback listeners; each loop is bounded in count and time
 * (a full run takes about 6–8 minutes on 2 cores; section 9b alone runs 50 s).
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { cleanupAll, newRedis, REDIS_URL, redisInfo, RUN_PREFIX } from './env.js';
import { benchPlan } from './plan-bench.js';
import { benchPoll } from './poll-bench.js';
import { benchDeliverer } from './deliver-bench.js';
import { benchPipeline } from './pipeline-bench.js';
import { benchLatency } from './latency-bench.js';
import { benchTracking } from './tracking-bench.js';
import { benchSimulator } from './simulator-bench.js';
import { benchMemory } from './memory-bench.js';
import { benchCadence, benchCadenceReal } from './cadence-bench.js';
import { benchCluster } from './cluster-bench.js';
import { benchCycleReplicas, benchWorkerMoving, benchWorkerScale, closeScaleFixture } from './worker-bench.js';
import { stopAllWorkers } from './worker-process.js';
import { record, resultsJson } from './results.js';
import { fmt, line } from './stats.js';

const SECTIONS: Record<string, () => Promise<void> | void> = {
  '1': benchPlan,
  '2': benchPoll,
  '3': async () => {
    await benchDeliverer();
  },
  '4': benchPipeline,
  '5': benchLatency,
  '6': benchTracking,
  '7': benchSimulator,
  '8': benchMemory,
  '9': async () => {
    benchCadence();
    await benchCadenceReal();
  },
  '10': benchWorkerMoving,
  '11': benchWorkerScale,
  '12': benchCycleReplicas,
  '13': benchCluster,
};

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const unknown = args.filter((a) => a !== '--json' && !(a in SECTIONS));
  if (unknown.length > 0) {
    process.stderr.write(`unknown bench section(s) ${unknown.join(', ')}; sections are ${Object.keys(SECTIONS).join(', ')}, plus --json\n`);
    return 64;
  }
  const wanted = args.filter((a) => a in SECTIONS);
  const run = wanted.length > 0 ? wanted : Object.keys(SECTIONS);
  const started = performance.now();
  const cpus = os.cpus();
  const admin = newRedis('main');
  const redisVersion = await redisInfo(admin, 'server', 'redis_version').finally(() => admin.disconnect());
  process.stdout.write('lipsync-sync benchmark\n');
  line('machine', `${cpus.length} cpus`, `${cpus[0]?.model ?? 'unknown cpu'}, ${fmt(os.totalmem() / 2 ** 30, 1)} GiB RAM, ${os.platform()} ${os.release()}`);
  line('runtime', process.version, `redis ${redisVersion ?? '?'} at ${REDIS_URL.replace(/\/\/[^@]*@/, '//***@')}, key prefix ${RUN_PREFIX}-*`);
  line('load average (1/5/15 min) at start', os.loadavg().map((l) => fmt(l, 2)).join(' / '), 'other work on this machine skews every figure below');
  let failed = false;
  try {
    for (const id of run) {
      const fn = SECTIONS[id];
      if (fn === undefined) continue;
      try {
        await fn();
      } catch (err) {
        failed = true;
        process.stdout.write(`   !! section ${id} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      }
    }
  } finally {
    await closeScaleFixture();
    await stopAllWorkers();
    const leftover = await cleanupAll();
    process.stdout.write(`\n`);
    line('load average (1/5/15 min) at end', os.loadavg().map((l) => fmt(l, 2)).join(' / '));
    const seconds = (performance.now() - started) / 1000;
    line('total bench time', `${fmt(seconds, 1)} s`, leftover > 0 ? `cleaned ${fmt(leftover)} leftover keys` : 'all bench keys deleted');
    record('sections', run.join(' '));
    record('bench_seconds', Math.round(seconds));
    if (json) process.stdout.write(`${resultsJson()}\n`);
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    void cleanupAll().finally(() => process.exit(1));
  },
);
