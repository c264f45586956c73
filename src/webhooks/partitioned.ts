/**
 * Webhook delivery seen whole when `redis.partitions` > 1: every partition runs its own pipeline (stream, FIFOs,
 * queues, breakers, dead letters, all under its hash tag), and what operators read or replay is merged here.
 * Breakers and disabling are per partition (their Lua steps touch the partition's FIFOs, so they share its slot):
 * a failing endpoint opens in each partition after that partition's own failures; the gauge shows the worst.
 */
import type { Queue } from 'bullmq';
import type { BreakerState } from './breaker.js';
import type { DeadLetter, DeadLetters, DisabledEndpoint, ReplayResult } from './dead-letters.js';
import type { DeliveryJobData } from './fifo.js';
import type { WebhookPipeline, WebhookSnapshot } from './pipeline.js';
import { addCounts } from '../shared/counts.js';

export type DeadLetterView = Pick<DeadLetters, 'list' | 'count' | 'disabled' | 'replay'>;

/** What the metrics, the status page and the API need of webhook delivery. */
export interface WebhookView {
  queues: Array<Queue<DeliveryJobData>>;
  snapshot(): Promise<WebhookSnapshot>;
  deadLetters: DeadLetterView;
}

/** One pipeline is its own view. */
export function webhookViewOver(pipelines: readonly WebhookPipeline[]): WebhookView {
  const [first] = pipelines;
  if (first === undefined) throw new Error('no partitions');
  if (pipelines.length === 1) return first;
  const letters = pipelines.map((p) => p.deadLetters);
  return {
    queues: pipelines.flatMap((p) => p.queues),
    snapshot: async () => mergeSnapshots(await Promise.all(pipelines.map((p) => p.snapshot()))),
    deadLetters: {
      list: async (endpoint?: string, limit = 100): Promise<DeadLetter[]> => {
        const all = (await Promise.all(letters.map((d) => d.list(endpoint, limit)))).flat();
        return all.sort((a, b) => a.deadAt.localeCompare(b.deadAt)).slice(-limit);
      },
      count: async () => addCounts(await Promise.all(letters.map((d) => d.count()))),
      // The earliest disabling of each endpoint stands for it.
      disabled: async () => {
        const out: Record<string, DisabledEndpoint> = {};
        for (const part of await Promise.all(letters.map((d) => d.disabled()))) {
          for (const [name, entry] of Object.entries(part)) if (out[name] === undefined || entry.disabledAt < (out[name] as DisabledEndpoint).disabledAt) out[name] = entry;
        }
        return out;
      },
      replay: async (endpoint?: string): Promise<ReplayResult> => {
        const results = await Promise.all(letters.map((d) => d.replay(endpoint)));
        return { replayed: results.reduce((n, r) => n + r.replayed, 0), skipped: [...new Set(results.flatMap((r) => r.skipped))] };
      },
    },
  };
}

/** Counts add up; an endpoint's state is its worst partition's (open > half-open > closed). */
export function mergeSnapshots(parts: readonly WebhookSnapshot[]): WebhookSnapshot {
  const endpointStates: Record<string, BreakerState> = {};
  for (const part of parts) for (const [name, state] of Object.entries(part.endpointStates)) endpointStates[name] = Math.max(endpointStates[name] ?? 0, state) as BreakerState;
  return {
    deadLetters: addCounts(parts.map((p) => p.deadLetters)),
    endpointStates,
    handoffMarkers: addCounts(parts.map((p) => p.handoffMarkers)),
    queued: addCounts(parts.map((p) => p.queued)),
  };
}
