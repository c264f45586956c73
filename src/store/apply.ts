/**
 * Reads the stored state of a batch and applies a plan to it. The read is one HMGET per id in one pipelined
 * round trip; the write is one Lua call per batch (applyBatch.lua) that touches only ids with something to
 * write, plus one ZADD that marks every answered id as seen. Compare-and-set on `rev` makes a plan computed
 * from a stale read a no-op instead of a double event.
 */
import type { Redis } from 'ioredis';
import type { ChangeEvent, TrackedFields } from '../events/types.js';
import { UNSEEN_STATUS } from '../shared/status.js';
import { decodeOrigin, type ProgressOrigin } from '../shared/progress.js';
import { STATE_FIELDS, type Keys } from './keys.js';
import { runScript } from './scripts.js';

/** What a poll needs to know about an id before diffing it. */
export interface StoredState {
  /** `null` when the id has never been seen in an answer. */
  fields: TrackedFields | null;
  /** Write revision, compared by the apply script. */
  rev: number;
  /** Consecutive answers without this id. */
  missed: number;
  /** Consecutive answers where this id could not be read. */
  unreadable: number;
  /** Normalised status used for the per-status counts (`new` before the first answer). */
  label: string;
  /** Ms the state record was created; null for records written before epochs existed. */
  epoch: number | null;
  /** Applied changes so far (`data.sequence` of the last event). */
  sequence: number;
  /** Creatify's `updated_at` of the last applied answer, in ms; null when unknown. */
  updatedAtMs: number | null;
  /** Ms of the last applied change of status, progress or failed_reason; null for records older than this field. */
  changedAtMs: number | null;
  /** First parsed progress reading of the current status run (ETA). */
  origin: ProgressOrigin | null;
  /** Ms since which the id is reported stalled; null when it is not. */
  stalledSinceMs: number | null;
}

/** One id's compare-and-set write: applied only if the state's rev is still `rev`. */
export interface ApplyOp {
  id: string;
  rev: number;
  set: Record<string, string>;
  del: string[];
  events: ChangeEvent[];
  from: string;
  to: string;
  /** Leaves the pending set (terminal, or missing/unreadable for too long). */
  remove: boolean;
  terminal: boolean;
  /** Membership of the `unreadable` set changes. */
  unreadable?: 'add' | 'remove';
  /** The id becomes stalled (counted under `from`) or stops being stalled. */
  stalled?: 'add' | 'remove';
}

export type ApplyOutcome = 'applied' | 'conflict' | 'untracked';

export interface ApplyResult {
  appended: number;
  outcomes: ApplyOutcome[];
}

const READ_FIELDS = [
  STATE_FIELDS.status,
  STATE_FIELDS.progress,
  STATE_FIELDS.failedReason,
  STATE_FIELDS.rev,
  STATE_FIELDS.missed,
  STATE_FIELDS.label,
  STATE_FIELDS.epoch,
  STATE_FIELDS.sequence,
  STATE_FIELDS.updatedAt,
  STATE_FIELDS.unreadable,
  STATE_FIELDS.changedAt,
  STATE_FIELDS.progressOrigin,
  STATE_FIELDS.stalledSince,
] as const;

export const UNKNOWN_STATE: StoredState = Object.freeze({
  fields: null,
  rev: 0,
  missed: 0,
  unreadable: 0,
  label: UNSEEN_STATUS,
  epoch: null,
  sequence: 0,
  updatedAtMs: null,
  changedAtMs: null,
  origin: null,
  stalledSinceMs: null,
});

/** Reads the stored state of a batch in one pipelined round trip. */
export async function readStates(redis: Redis, keys: Keys, ids: readonly string[]): Promise<Map<string, StoredState>> {
  const pipeline = redis.pipeline();
  ids.forEach((id) => pipeline.hmget(keys.state(id), ...READ_FIELDS));
  const replies = (await pipeline.exec()) ?? [];
  const states = new Map<string, StoredState>();
  ids.forEach((id, i) => {
    const [err, value] = replies[i] ?? [new Error('no reply'), null];
    if (err) throw err;
    states.set(id, toState(value as Array<string | null>));
  });
  return states;
}

function toState([status, progress, failedReason, rev, missed, label, epoch, sequence, updatedAt, unreadable, changedAt, origin, stalledSince]: Array<string | null>): StoredState {
  const updatedAtMs = updatedAt === null || updatedAt === undefined ? NaN : Date.parse(updatedAt);
  return {
    fields: status === null || status === undefined ? null : { status, progress: progress || null, failed_reason: failedReason ?? null },
    rev: Number(rev ?? 0),
    missed: Number(missed ?? 0),
    unreadable: Number(unreadable ?? 0),
    label: label ?? UNSEEN_STATUS,
    epoch: epoch === null || epoch === undefined ? null : Number(epoch),
    sequence: Number(sequence ?? 0),
    updatedAtMs: Number.isNaN(updatedAtMs) ? null : updatedAtMs,
    changedAtMs: optionalNumber(changedAt),
    origin: decodeOrigin(origin),
    stalledSinceMs: optionalNumber(stalledSince),
  };
}

/** A numeric hash field, or null when absent, empty or not a number. */
export function optionalNumber(value: string | null | undefined): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = Number(value);
  return Number.isNaN(n) ? null : n;
}

/**
 * Applies a batch of ops, the batch's seen mark and (with `poll.cadence`) its ids' next due times in one Lua
 * call; events land in the stream in op order.
 */
export async function applyBatch(redis: Redis, keys: Keys, batch: { ops: readonly ApplyOp[]; seen: readonly string[]; now: number; due?: ReadonlyArray<readonly [string, number]> }, retentionSeconds: number): Promise<ApplyResult> {
  const { ops, seen } = batch;
  if (ops.length === 0 && seen.length === 0) return { appended: 0, outcomes: [] };
  const payload = ops.map((op) => ({
    id: op.id,
    rev: op.rev,
    set: op.set,
    del: op.del,
    events: op.events.map((event) => ({ id: event.id, type: event.type, body: JSON.stringify(event) })),
    from: op.from,
    to: op.to,
    remove: op.remove,
    terminal: op.terminal,
    unreadable: op.unreadable,
    stalled: op.stalled,
  }));
  // cjson decodes [] and {} alike; an empty ops list must stay a list.
  const [appended, outcomes] = (await runScript(
    redis,
    'applyBatch',
    [keys.pending, keys.events, keys.statusCounts, keys.seen, keys.unreadable, keys.stalled, keys.stalledCounts, keys.due, ...ops.map((op) => keys.state(op.id))],
    [payload.length === 0 ? '[]' : JSON.stringify(payload), retentionSeconds, batch.now, JSON.stringify((batch.due ?? []).flatMap(([id, ms]) => [ms, id])), ...seen],
  )) as [number, ApplyOutcome[] | Record<string, never>];
  return { appended, outcomes: Array.isArray(outcomes) ? outcomes : [] };
}
