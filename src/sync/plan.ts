import type { Lipsync, MalformedItem } from '../creatify/schema.js';
import type { ChangeEvent } from '../events/types.js';
import type { ApplyOp, StoredState } from '../store/apply.js';
import { STATE_FIELDS, UNSEEN_STATUS } from '../store/keys.js';
import { diff, missingEvent, normalizeStatus } from './diff.js';

export interface PlanOptions {
  terminalStatuses: ReadonlySet<string>;
  missingGraceCycles: number;
  now: Date;
}

export interface Transition {
  id: string;
  from: string;
  to: string;
}

/** Everything one answer means for the store, before it is applied. */
export interface BatchPlan {
  ops: ApplyOp[];
  transitions: Transition[];
  /** Ids asked for but absent from the answer (not counting malformed ones, which were present). */
  missing: string[];
  /** Ids that reached the missing grace limit and leave the pending set. */
  missingExpired: string[];
  /** Items returned that were not asked for (a misbehaving upstream); ignored. */
  unexpected: string[];
}

/**
 * Pure: from the ids asked, the parsed answer and the stored states, the compare-and-set writes and events.
 * Every answered item gets a write (seen_at, missed reset) even without a change, so `status` shows freshness.
 */
export function planBatch(asked: readonly string[], items: readonly Lipsync[], malformed: readonly MalformedItem[], states: ReadonlyMap<string, StoredState>, options: PlanOptions): BatchPlan {
  const askedSet = new Set(asked);
  const answered = new Set<string>();
  const plan: BatchPlan = { ops: [], transitions: [], missing: [], missingExpired: [], unexpected: [] };
  const seenAt = options.now.toISOString();

  for (const item of items) {
    const id = item.id.toLowerCase();
    if (!askedSet.has(id)) {
      plan.unexpected.push(id);
      continue;
    }
    if (answered.has(id)) continue; // a duplicated item in one answer is one sighting
    answered.add(id);
    const state = states.get(id) ?? { fields: null, rev: 0, missed: 0, label: UNSEEN_STATUS };
    const result = diff(state.fields, { ...item, id }, options);
    const to = normalizeStatus(result.current.status) ?? UNSEEN_STATUS;
    const set: Record<string, string> = {
      [STATE_FIELDS.status]: result.current.status ?? '',
      [STATE_FIELDS.progress]: result.current.progress ?? '',
      [STATE_FIELDS.updatedAt]: item.updated_at,
      [STATE_FIELDS.seenAt]: seenAt,
      [STATE_FIELDS.missed]: '0',
      [STATE_FIELDS.lipsync]: JSON.stringify(item),
      label: to,
    };
    if (state.fields === null) set[STATE_FIELDS.firstSeenAt] = seenAt;
    const del: string[] = [];
    if (result.current.failed_reason === null) del.push(STATE_FIELDS.failedReason);
    else set[STATE_FIELDS.failedReason] = result.current.failed_reason;
    plan.ops.push({ id, rev: state.rev, set, del, events: result.events, from: state.label, to, remove: result.terminal, terminal: result.terminal });
    if (state.fields === null || result.changed.includes('status')) plan.transitions.push({ id, from: state.fields === null ? 'none' : state.label, to });
  }

  const malformedIds = new Set(malformed.map((m) => m.id).filter((id): id is string => id !== null));
  for (const id of asked) {
    if (answered.has(id) || malformedIds.has(id)) continue;
    plan.missing.push(id);
    const state = states.get(id) ?? { fields: null, rev: 0, missed: 0, label: UNSEEN_STATUS };
    const missed = state.missed + 1;
    const expired = missed >= options.missingGraceCycles;
    const events: ChangeEvent[] = expired ? [missingEvent(id, state.fields, missed, options.now)] : [];
    if (expired) plan.missingExpired.push(id);
    plan.ops.push({ id, rev: state.rev, set: { [STATE_FIELDS.missed]: String(missed) }, del: [], events, from: state.label, to: state.label, remove: expired, terminal: false });
  }
  return plan;
}

/** The configured terminal statuses, normalised for comparison. */
export function terminalSet(statuses: readonly string[]): ReadonlySet<string> {
  return new Set(statuses.map((s) => s.trim().toLowerCase()));
}
