import { performance } from 'node:perf_hooks';
import { diff } from '../src/sync/diff.js';
import { terminalSet } from '../src/shared/status.js';
import { createDeliverer, type Deliverer } from '../src/webhooks/deliver.js';
import { answerItem, SECRET, uuidFor } from './env.js';
import { BenchReceiver, mainElu } from './receiver.js';
import { fmt, fmtSummary, goalLine, line, note, rate, section, summarize } from './stats.js';

export const GOAL_PER_SECOND = 3000;
const CONCURRENCY = 50;

/** A realistic signed body: a status_changed event carrying the full lipsync object. */
export function sampleEventBody(): string {
  const id = uuidFor(1, 0x3000);
  const result = diff({ status: 'pending', progress: '0', failed_reason: null }, answerItem(id, { status: 'running', progress: '0.5' }), {
    terminalStatuses: terminalSet(['done', 'failed']),
    now: new Date(),
    epoch: 0,
    sequence: 1,
  });
  return JSON.stringify(result.events[0]);
}

interface RunResult {
  delivered: number;
  failed: number;
  ms: number;
  latencies: number[];
  firstError: string | null;
}

async function run(url: string, body: string, durationMs: number, seq: { next: number }, make: () => Deliverer = () => createDeliverer({ userAgent: 'lipsync-sync-bench' })): Promise<RunResult> {
  const deliverer = make();
  const endpoint = { name: 'bench', url: `${url}/hook`, secret: SECRET, timeoutMs: 10_000 };
  const result: RunResult = { delivered: 0, failed: 0, ms: 0, latencies: [], firstError: null };
  try {
    // Warm-up: opens the keep-alive sockets and lets the JIT settle; not counted.
    const warmUntil = performance.now() + 500;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < warmUntil) await deliverer.deliver(endpoint, `evt_bench_warm_${seq.next++}`, body);
      }),
    );
    const started = performance.now();
    const deadline = started + durationMs;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < deadline) {
          const t = performance.now();
          const r = await deliverer.deliver(endpoint, `evt_bench_${seq.next++}`, body);
          result.latencies.push(performance.now() - t);
          if (r.outcome === 'delivered') result.delivered += 1;
          else {
            result.failed += 1;
            result.firstError ??= r.error;
          }
        }
      }),
    );
    result.ms = performance.now() - started;
  } finally {
    deliverer.close();
  }
  return result;
}

/** Section 3; returns the measured deliveries/s (receiver in a worker thread). */
export async function benchDeliverer(): Promise<number> {
  section(`3. signed deliveries per second, deliverer alone (createDeliverer().deliver(), concurrency ${CONCURRENCY})`);
  const body = sampleEventBody();
  const seq = { next: 0 };
  let headline = Number.NaN;
  const variants = [
    { inline: false, seconds: 5, label: 'receiver in its own worker thread', make: undefined },
    { inline: true, seconds: 3, label: 'receiver on the sender\'s event loop', make: undefined },
  ];
  for (const variant of variants) {
    const receiver = await BenchReceiver.start({ secret: SECRET, parseBodies: false, verifyEvery: 97, keepRecords: false, inline: variant.inline });
    try {
      await run(receiver.url, body, 0, seq, variant.make); // warm-up only
      await receiver.flush();
      receiver.reset();
      const elu = mainElu();
      const receiverElu = receiver.eventLoopUtilization();
      const r = await run(receiver.url, body, variant.seconds * 1000, seq, variant.make);
      const senderBusy = mainElu(elu).utilization;
      const receiverBusy = receiverElu === null ? null : (receiver.eventLoopUtilization(receiverElu)?.utilization ?? null);
      await receiver.flush();
      const perSecond = rate(r.delivered, r.ms);
      if (!variant.inline && variant.make === undefined) headline = perSecond;
      line(`deliveries/s, ${variant.label}`, `${fmt(perSecond)} /s`, `${fmt(r.delivered)} delivered in ${fmt(r.ms / 1000, 1)} s, ${fmt(r.failed)} failed${r.firstError === null ? '' : ` (${r.firstError})`}`);
      line('    per-request latency', '', fmtSummary(summarize(r.latencies)));
      line('    event loop busy: sender / receiver', `${fmt(senderBusy * 100)}/${receiverBusy === null ? 'same' : fmt(receiverBusy * 100)} %`, `body ${fmt(body.length)} bytes; receiver counted ${fmt(receiver.counts.requests)} requests (incl. warm-up tail)`);
      line('    signatures verified (1 in 97 sampled)', `${fmt(receiver.counts.verified)} ok`, receiver.counts.verifyFailed === 0 ? '0 failed' : `${fmt(receiver.counts.verifyFailed)} FAILED: ${receiver.counts.firstFailure ?? ''}`);
    } finally {
      await receiver.stop();
    }
  }
  goalLine(`goal ${GOAL_PER_SECOND}/s (deliverer alone)`, headline, GOAL_PER_SECOND);
  note('the headline is createDeliverer() with the worker-thread receiver: a real receiver does not share the sender\'s CPU');
  return headline;
}
