/**
 * Pure: from the ids asked, the parsed answer and the stored states, the compare-and-set writes and events of
 * one batch. An id whose answer changes nothing gets no write at all (the batch's seen mark covers it); an
 * answer older than the stored state (`updated_at` earlier than the stored one) is skipped, so state never goes
 * back in time. Ids absent from the answer, or answered unreadably, count towards `missingGraceCycles`, after
 * which they get `lipsync.missing` and leave the pending set.
 */
import type { AnswerItem, ParsedList, UnreadableItem } from '../creatify/schema.js';
import type { ChangeEvent } from '../events/types.js';
import { UNKNOWN_STATE, type ApplyOp, type StoredState } from '../store/apply.js';
import { STATE_FIELDS } from '../store/keys.js';
import { normalizeStatus, UNSEEN_STATUS } from '../shared/status.js';
import { encodeOrigin } from '../shared/progress.js';
import { diff, missingEvent, stalledEvent } from './diff.js';

export interface PlanOptions {
  terminalStatuses: ReadonlySet<string>;
  missingGraceCycles: number;
  now: Date;
  /** Normalised status → ms without movement after which an id is reported stalled (`poll.stalledAfterSeconds`). */
  stalledAfterMs?: ReadonlyMap<string, number>;
}

export interface Transition {
  id: string;
  from: string;
  to: string;
}

/** Everything one answer means for the store, before it is applied. */
export interface BatchPlan {
  ops: ApplyOp[];
  /** Asked ids that were answered readably (the batch's seen mark), whether or not they changed. */
  seen: string[];
  transitions: Transition[];
  /** Ids asked for but absent from the answer. */
  missing: string[];
  /** Ids that reached the grace limit (absent or unreadable) and leave the pending set. */
  missingExpired: string[];
  /** Asked ids answered with an item the daemon cannot read (see ParsedList.unreadable). */
  unreadable: UnreadableItem[];
  /** Items returned that were not asked for (a misbehaving upstream); ignored. */
  unexpected: string[];
  /** Ids answered more than once in one answer; the newest item (by updated_at) is used. */
  duplicated: string[];
  /** Ids whose answer was older than the stored state; skipped. */
  stale: string[];
  /** Ids reported stalled by this answer (`lipsync.stalled`). */
  stalled: string[];
}

export function planBatch(asked: readonly string[], answer: ParsedList, states: ReadonlyMap<string, StoredState>, options: PlanOptions): BatchPlan {
  const askedSet = new Set(asked);
  const plan: BatchPlan = { ops: [], seen: [], transitions: [], missing: [], missingExpired: [], unreadable: [], unexpected: [], duplicated: [], stale: [], stalled: [] };
  const now = options.now.getTime();
  const seenAt = options.now.toISOString();

  const answered = new Map<string, AnswerItem>();
  for (const item of answer.items) {
    if (!askedSet.has(item.id)) {
      plan.unexpected.push(item.id);
      continue;
    }
    const earlier = answered.get(item.id);
    if (earlier !== undefined) {
      plan.duplicated.push(item.id);
      if ((item.updatedAtMs ?? -Infinity) <= (earlier.updatedAtMs ?? -Infinity)) continue;
    }
    answered.set(item.id, item);
  }
  const unreadable = new Map<string, UnreadableItem>();
  for (const bad of answer.unreadable) if (askedSet.has(bad.id) && !answered.has(bad.id)) unreadable.set(bad.id, bad);

  for (const [id, item] of answered) {
    const state = states.get(id) ?? UNKNOWN_STATE;
    plan.seen.push(id);
    if (item.updatedAtMs !== null && state.updatedAtMs !== null && item.updatedAtMs < state.updatedAtMs) {
      plan.stale.push(id);
      continue;
    }
    const epoch = state.epoch ?? now;
    const result = diff(state.fields, item, { terminalStatuses: options.terminalStatuses, now: options.now, epoch, sequence: state.sequence, origin: state.origin, stalledSinceMs: state.stalledSinceMs });
    const changed = result.events.length > 0;
    const stalls = !changed && isStalling(state, options.stalledAfterMs, now);
    const events = stalls && state.fields !== null ? [stalledEvent(item, state.fields, { epoch, sequence: state.sequence, now: options.now, sinceMs: state.changedAtMs ?? now })] : result.events;
    const advanced = item.updatedAtMs !== null && item.updatedAtMs !== state.updatedAtMs;
    const resets = state.missed > 0 || state.unreadable > 0;
    // Records from before changed_at existed get it once, so stalled detection has a starting point.
    const dated = state.fields === null || state.changedAtMs !== null;
    if (events.length === 0 && !advanced && !resets && state.epoch !== null && dated) continue; // nothing to write
    const to = normalizeStatus(result.current.status) || UNSEEN_STATUS;
    const set: Record<string, string> = {
      [STATE_FIELDS.status]: result.current.status ?? '',
      [STATE_FIELDS.progress]: result.current.progress ?? '',
      [STATE_FIELDS.seenAt]: seenAt,
      [STATE_FIELDS.missed]: '0',
      [STATE_FIELDS.unreadable]: '0',
      [STATE_FIELDS.sequence]: String(stalls ? state.sequence + 1 : result.sequence),
      [STATE_FIELDS.epoch]: String(epoch),
      [STATE_FIELDS.lipsync]: JSON.stringify(item.raw),
      [STATE_FIELDS.label]: to,
    };
    if (item.updatedAtMs !== null && typeof item.raw['updated_at'] === 'string') set[STATE_FIELDS.updatedAt] = item.raw['updated_at'];
    if (state.fields === null) set[STATE_FIELDS.firstSeenAt] = seenAt;
    const del: string[] = [STATE_FIELDS.unreadableDetail];
    if (result.current.failed_reason === null) del.push(STATE_FIELDS.failedReason);
    else set[STATE_FIELDS.failedReason] = result.current.failed_reason;
    if (changed || !dated) set[STATE_FIELDS.changedAt] = String(now);
    if (result.origin === null) del.push(STATE_FIELDS.progressOrigin);
    else set[STATE_FIELDS.progressOrigin] = encodeOrigin(result.origin);
    const op: ApplyOp = { id, rev: state.rev, set, del, events, from: state.label, to, remove: result.terminal, terminal: result.terminal };
    if (state.unreadable > 0) op.unreadable = 'remove';
    if (stalls) {
      set[STATE_FIELDS.stalledSince] = String(state.changedAtMs ?? now);
      op.stalled = 'add';
    } else if (changed && state.stalledSinceMs !== null) {
      del.push(STATE_FIELDS.stalledSince);
      op.stalled = 'remove';
    }
    plan.ops.push(op);
    if (stalls) plan.stalled.push(id);
    if (state.fields === null || result.changed.includes('status')) plan.transitions.push({ id, from: state.fields === null ? 'none' : state.label, to });
  }

  for (const id of asked) {
    if (answered.has(id)) continue;
    const state = states.get(id) ?? UNKNOWN_STATE;
    const bad = unreadable.get(id);
    if (bad !== undefined) plan.unreadable.push(bad);
    else plan.missing.push(id);
    // Absent and unreadable answers share one grace count: either way the id was not followed this cycle.
    const count = Math.max(state.missed, state.unreadable) + 1;
    const expired = count >= options.missingGraceCycles;
    const epoch = state.epoch ?? now;
    const events: ChangeEvent[] = expired
      ? [missingEvent(id, state.fields, { epoch, sequence: state.sequence, now: options.now, reason: bad === undefined ? 'absent' : 'unreadable', ...(bad === undefined ? {} : { detail: bad.issues }) })]
      : [];
    if (expired) plan.missingExpired.push(id);
    const set: Record<string, string> = { [STATE_FIELDS.epoch]: String(epoch) };
    if (events.length > 0) set[STATE_FIELDS.sequence] = String(state.sequence + 1);
    if (bad === undefined) {
      set[STATE_FIELDS.missed] = String(count);
      set[STATE_FIELDS.unreadable] = '0';
    } else {
      set[STATE_FIELDS.unreadable] = String(count);
      set[STATE_FIELDS.unreadableDetail] = bad.issues;
      set[STATE_FIELDS.missed] = '0';
    }
    const op: ApplyOp = { id, rev: state.rev, set, del: [], events, from: state.label, to: state.label, remove: expired, terminal: false };
    if (bad !== undefined) op.unreadable = 'add';
    else if (state.unreadable > 0) op.unreadable = 'remove';
    plan.ops.push(op);
  }
  return plan;
}

/** Unchanged, not yet reported, and still for longer than its status allows. */
function isStalling(state: StoredState, stalledAfterMs: ReadonlyMap<string, number> | undefined, now: number): boolean {
  if (state.fields === null || state.stalledSinceMs !== null || state.changedAtMs === null) return false;
  const limit = stalledAfterMs?.get(state.label);
  return limit !== undefined && now - state.changedAtMs >= limit;
}
