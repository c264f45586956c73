import type { Redis } from 'ioredis';
import type { ChangeEvent, TrackedFields } from '../events/types.js';
import { STATE_FIELDS, UNSEEN_STATUS, type Keys } from './keys.js';
import { runScript } from './scripts.js';

/** What a poll needs to know about an id before diffing it. */
export interface StoredState {
  /** `null` when the id has never been seen in an answer. */
  fields: TrackedFields | null;
  /** Write revision, compared by the apply script. */
  rev: number;
  missed: number;
  /** Normalised status used for the per-status counts (`new` before the first answer). */
  label: string;
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
  /** Leaves the pending set (terminal or missing for too long). */
  remove: boolean;
  terminal: boolean;
}

export type ApplyOutcome = 'applied' | 'conflict' | 'untracked';

export interface ApplyResult {
  appended: number;
  outcomes: ApplyOutcome[];
}

const READ_FIELDS = [STATE_FIELDS.status, STATE_FIELDS.progress, STATE_FIELDS.failedReason, STATE_FIELDS.rev, STATE_FIELDS.missed, 'label'] as const;

/** Reads the stored state of a batch in one pipelined round trip. */
export async function readStates(redis: Redis, keys: Keys, ids: readonly string[]): Promise<Map<string, StoredState>> {
  const pipeline = redis.pipeline();
  ids.forEach((id) => pipeline.hmget(keys.state(id), ...READ_FIELDS));
  const replies = (await pipeline.exec()) ?? [];
  const states = new Map<string, StoredState>();
  ids.forEach((id, i) => {
    const [err, value] = replies[i] ?? [new Error('no reply'), null];
    if (err) throw err;
    const [status, progress, failedReason, rev, missed, label] = value as Array<string | null>;
    states.set(id, {
      fields: status === null || status === undefined ? null : { status, progress: progress ?? null, failed_reason: failedReason ?? null },
      rev: Number(rev ?? 0),
      missed: Number(missed ?? 0),
      label: label ?? UNSEEN_STATUS,
    });
  });
  return states;
}

/** Applies a batch of ops in one Lua call; events land in the stream in op order. */
export async function applyBatch(redis: Redis, keys: Keys, ops: readonly ApplyOp[], retentionSeconds: number): Promise<ApplyResult> {
  if (ops.length === 0) return { appended: 0, outcomes: [] };
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
  }));
  const [appended, outcomes] = (await runScript(
    redis,
    'applyBatch',
    [keys.pending, keys.events, keys.statusCounts, ...ops.map((op) => keys.state(op.id))],
    [JSON.stringify(payload), retentionSeconds],
  )) as [number, ApplyOutcome[]];
  return { appended, outcomes };
}
