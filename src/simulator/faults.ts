/**
 * Every way the simulator can misbehave, one named pure function each, so each can be read and unit-tested
 * alone. Which fault fires when is decided elsewhere (./injector.ts, seeded). Faults never touch stored state:
 * item faults get a copy, list and answer faults get serialised text.
 *
 * - Malformations (`malformedRate`, `setMalformed`): an item that breaks the documented schema.
 * - Item drift: shapes upstream has been seen (or may be expected) to send for one item.
 * - List drift: an answer whose item list is not what was asked.
 * - Answer drift: the whole answer replaced or damaged.
 * - Timeline drift: a job that goes back to the queue.
 */
import { BAD_GATEWAY_HTML, SERVER_ERROR_HTML, detail, html, jsonArray, type Answer } from './answers.js';
import { defaultLipsync, pick, randomUuidV4, toIso, type Rng, type TimelineStep } from './timeline.js';

export type Mutation = (obj: Record<string, unknown>) => void;

/** Each breaks lipsyncSchema in a different way; `id` is left intact so the daemon can still name the item. */
export const MALFORMATIONS: readonly Mutation[] = [
  (o) => {
    o['aspect_ratio'] = 'bogus';
  },
  (o) => {
    delete o['status'];
  },
  (o) => {
    delete o['created_at'];
  },
  (o) => {
    o['progress'] = 0.5;
  },
  (o) => {
    o['video_inputs'] = null;
  },
  (o) => {
    o['credits_used'] = 1.5;
  },
];

export function malformRandomly(rng: Rng, obj: Record<string, unknown>): void {
  pick(rng, MALFORMATIONS)(obj);
}

/** A progress string as a number, whatever its format ("0.4", "40"); NaN when it does not parse. */
function progressValue(o: Record<string, unknown>): number {
  const p = o['progress'];
  return typeof p === 'number' ? p : typeof p === 'string' && p.trim() !== '' ? Number(p) : NaN;
}

/** Item drift, applied to a copy of one served item; `id` always stays readable. */
export const ITEM_FAULTS = {
  /** `progress` as a JSON number (0.4) instead of the documented string ("0.4"). */
  progressNumber: (o) => {
    const p = progressValue(o);
    o['progress'] = Number.isFinite(p) ? p : 0.4;
  },
  /** `video_thumbnail` and `duration` null, as while a job has not rendered yet. */
  nullMedia: (o) => {
    o['video_thumbnail'] = null;
    o['duration'] = null;
  },
  /** `credits_used` fractional (documented as an integer). */
  fractionalCredits: (o) => {
    const c = o['credits_used'];
    o['credits_used'] = (typeof c === 'number' ? c : 0) + 0.5;
  },
  /** `progress` lower than the true one (same format, same `updated_at`), as a stale replica might answer. */
  progressBack: (o) => {
    const p = progressValue(o);
    if (!Number.isFinite(p) || p <= 0) return;
    const back = p > 1 ? p - 10 : p - 0.1; // a percentage ("50") goes back 10 points, a fraction 0.1
    o['progress'] = String(Math.max(0, Math.round(back * 10) / 10));
  },
  /** The `status` field absent. */
  missingStatus: (o) => {
    delete o['status'];
  },
} satisfies Record<string, Mutation>;
export type ItemFault = keyof typeof ITEM_FAULTS;

/** List drift over the serialised items of one 200 answer. */
export const LIST_FAULTS = {
  /** One item (drawn) appears twice. */
  duplicateItem: (items: readonly string[], rng: Rng): string[] => {
    if (items.length === 0) return [...items];
    return [...items, pick(rng, items)];
  },
  /** A valid running lipsync whose id (drawn) was not asked for. */
  extraId: (items: readonly string[], rng: Rng, nowMs: number): string[] => {
    const stranger = { ...defaultLipsync(randomUuidV4(rng), nowMs), status: 'running', progress: '0.5', updated_at: toIso(nowMs) };
    return [...items, JSON.stringify(stranger)];
  },
} satisfies Record<string, (items: readonly string[], rng: Rng, nowMs: number) => string[]>;
export type ListFault = keyof typeof LIST_FAULTS;

export interface AnswerFaultContext {
  /** The answer the request deserved, built only when a fault needs it. */
  normal: () => Answer;
  /** Seconds sent in `Retry-After` by `rateLimited`. */
  retryAfterSeconds: number;
}

const THROTTLED = 'Request was throttled.';

/** Answer drift: each returns the whole answer sent instead of the normal one. */
export const ANSWER_FAULTS = {
  /** A 200 JSON answer cut in half (a dropped connection behind a proxy that already sent the headers). */
  truncatedJson: ({ normal }: AnswerFaultContext): Answer => {
    const answer = normal();
    return { ...answer, body: answer.body.slice(0, Math.max(0, Math.floor(answer.body.length / 2))) };
  },
  /** nginx's HTML 502 page. */
  badGateway: (): Answer => html(502, BAD_GATEWAY_HTML),
  /** `[]` whatever was asked. */
  emptyArray: (): Answer => jsonArray([]),
  /** 429 with `Retry-After`. */
  rateLimited: ({ retryAfterSeconds }: AnswerFaultContext): Answer =>
    detail(429, `${THROTTLED} Expected available in ${retryAfterSeconds} seconds.`, { 'retry-after': String(retryAfterSeconds) }),
  /** 429 without `Retry-After`. */
  rateLimitedNoRetryAfter: (): Answer => detail(429, THROTTLED),
} satisfies Record<string, (context: AnswerFaultContext) => Answer>;
export type AnswerFault = keyof typeof ANSWER_FAULTS;

/** Django's HTML 500 page (`errorRate`). */
export function serverError(): Answer {
  return html(500, SERVER_ERROR_HTML);
}

/**
 * Timeline drift: after the first `running` step the job goes back to `in_queue` (progress "0"), then runs
 * again from the start: running → in_queue → running → … → done/failed. A timeline that never runs is kept.
 */
export function requeueSteps(steps: readonly TimelineStep[]): TimelineStep[] {
  const firstRunning = steps.findIndex((s) => s.status === 'running');
  if (firstRunning < 0) return [...steps];
  const rerun = steps.slice(firstRunning);
  return [...steps.slice(0, firstRunning + 1), { status: 'in_queue', progress: '0', failed_reason: null }, ...rerun];
}
