/**
 * `npm run test:chaos [-- --short] [-- --seed n] [-- --only <scenario>] [-- --partitions n]`: runs the chaos
 * scenarios against the built daemon (with `redis.partitions` n, default 1) and prints one table. Exit 0 only when every scenario passed.
 * Invariant: whatever ends the run (a failure, an exception, Ctrl-C, the overall deadline), every process
 * it spawned is killed before it exits.
 */
import { parseArgs } from 'node:util';
import { killAllNow } from './processes.js';
import { runScenario, seconds, type ScenarioResult, type Sizes } from './run.js';
import { scenarios } from './scenarios.js';

const { values } = parseArgs({ options: { short: { type: 'boolean', default: false }, seed: { type: 'string' }, only: { type: 'string' }, partitions: { type: 'string' } } });
const short = values.short === true || process.env['CHAOS_MODE'] === 'short';
const seed = values.seed === undefined ? 9 : Number(values.seed);
const partitions = values.partitions === undefined ? 1 : Number(values.partitions);
const sizes: Sizes = short ? { lipsyncs: 30, intervalMs: 1000, short: true, partitions } : { lipsyncs: 300, intervalMs: 1000, short: false, partitions };
/** The whole run, however it goes: short mode fits CI, full mode the issue's sizes. */
const DEADLINE_MS = short ? 6 * 60_000 : 20 * 60_000;

process.on('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.error(`chaos: ${signal}; killing every spawned process`);
    process.exit(130);
  });
}
const deadline = setTimeout(() => {
  console.error(`chaos: still running after ${DEADLINE_MS / 60_000} min; giving up`);
  process.exit(1);
}, DEADLINE_MS);
deadline.unref();

function row(cells: string[], widths: number[]): string {
  return `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
}

function printTable(results: ScenarioResult[]): void {
  const header = ['scenario', 'expected events', 'delivered', 'lost', 'duplicates', 'max poll gap', 'final latency p99', 'result'];
  const rows = results.map((r) => [
    r.name,
    String(r.verdict.expected),
    String(r.verdict.delivered),
    String(r.verdict.lost),
    `${r.verdict.duplicates}${r.verdict.duplicatesWithNewId > 0 ? ` (+${r.verdict.duplicatesWithNewId} new id)` : ''}`,
    `${seconds(r.maxGapMs)} (≤ ${seconds(r.gapLimitMs)})`,
    seconds(r.p99Ms),
    r.failures.length === 0 ? 'pass' : 'FAIL',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  console.log(row(header, widths));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(row(r, widths));
}

async function main(): Promise<number> {
  const chosen = scenarios(sizes).filter((s) => values.only === undefined || s.name.includes(values.only));
  console.log(`chaos: ${short ? 'short' : 'full'} mode, ${sizes.lipsyncs} lipsyncs, interval ${sizes.intervalMs} ms, ${partitions} partition(s), seed ${seed}; scenarios: ${chosen.map((s) => s.name).join(', ')}`);
  const results: ScenarioResult[] = [];
  for (const spec of chosen) {
    let result: ScenarioResult;
    try {
      result = await runScenario(spec, sizes, seed);
    } catch (err) {
      const verdict = { expected: 0, delivered: 0, lost: 0, duplicates: 0, duplicatesWithNewId: 0, unexpected: 0, outOfOrder: 0, badSignatures: 0, finalLatenciesMs: [], examples: [] };
      result = { name: spec.name, verdict, maxGapMs: Number.NaN, gapLimitMs: spec.gapLimitMs, p99Ms: Number.NaN, failures: [`harness error: ${err instanceof Error ? err.message : String(err)}`], notes: [], seconds: 0 };
    }
    results.push(result);
    console.log(`chaos: ${result.name}: ${result.failures.length === 0 ? 'pass' : 'FAIL'} in ${result.seconds.toFixed(0)} s`);
  }
  console.log('');
  printTable(results);
  for (const r of results) {
    for (const note of r.notes) console.log(`  ${r.name}: ${note}`);
    for (const failure of r.failures) console.log(`  ${r.name}: FAIL ${failure}`);
    for (const example of r.verdict.examples) console.log(`  ${r.name}:   e.g. ${example}`);
  }
  return results.every((r) => r.failures.length === 0) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
