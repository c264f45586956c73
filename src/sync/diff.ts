import type { Lipsync } from '../creatify/schema.js';
import { eventId } from '../events/event-id.js';
import type { ChangedField, ChangeEvent, EventType, TrackedFields } from '../events/types.js';

export const NEVER_SEEN: TrackedFields = Object.freeze({ status: null, progress: null, failed_reason: null });

/** Statuses compare case-insensitively after trimming (SPEC). */
export function normalizeStatus(status: string | null): string | null {
  return status === null ? null : status.trim().toLowerCase();
}

/** Progress is compared as given after trimming: "0.5" and "50" are both seen upstream and neither is rewritten. */
function normalizeProgress(progress: string | null): string | null {
  return progress === null ? null : progress.trim();
}

/** An empty failed_reason is no reason at all. */
function normalizeReason(reason: string | null): string | null {
  const trimmed = reason?.trim() ?? '';
  return trimmed === '' ? null : trimmed;
}

export function fieldsOf(item: Lipsync): TrackedFields {
  return { status: item.status, progress: item.progress, failed_reason: item.failed_reason };
}

export function changedFields(previous: TrackedFields, current: TrackedFields): ChangedField[] {
  const changed: ChangedField[] = [];
  if (normalizeStatus(previous.status) !== normalizeStatus(current.status)) changed.push('status');
  if (normalizeProgress(previous.progress) !== normalizeProgress(current.progress)) changed.push('progress');
  if (normalizeReason(previous.failed_reason) !== normalizeReason(current.failed_reason)) changed.push('failed_reason');
  return changed;
}

export interface DiffOptions {
  /** Normalised (lower-case) terminal statuses. */
  terminalStatuses: ReadonlySet<string>;
  now: Date;
}

export interface DiffResult {
  current: TrackedFields;
  changed: ChangedField[];
  events: ChangeEvent[];
  terminal: boolean;
}

/**
 * From the last stored fields (`null` = never seen) and the item just fetched, the events to emit.
 * Pure: no clock or I/O beyond `options.now`. Types per SPEC: the most specific that apply, all sharing one `data`.
 */
export function diff(previous: TrackedFields | null, item: Lipsync, options: DiffOptions): DiffResult {
  const current = fieldsOf(item);
  const before = previous ?? NEVER_SEEN;
  const changed = changedFields(before, current);
  const status = normalizeStatus(current.status);
  const terminal = status !== null && options.terminalStatuses.has(status);
  const types = previous === null ? firstSightingTypes(status) : changeTypes(changed, status, normalizeReason(current.failed_reason));
  const data = { lipsync_id: item.id, previous: before, current, changed, lipsync: item };
  const created_at = options.now.toISOString();
  const events = types.map((type) => ({ id: eventId(type, item.id, before, current), type, created_at, data }));
  return { current, changed, events, terminal };
}

function firstSightingTypes(status: string | null): EventType[] {
  const types: EventType[] = ['lipsync.tracked'];
  // A lipsync already failed or done when first seen still has to reach alerting and pipelines.
  if (status === 'failed') types.push('lipsync.failed');
  if (status === 'done') types.push('lipsync.completed');
  return types;
}

function changeTypes(changed: ChangedField[], status: string | null, reason: string | null): EventType[] {
  if (changed.length === 0) return [];
  const types: EventType[] = [];
  const statusChanged = changed.includes('status');
  if (statusChanged) types.push('lipsync.status_changed');
  else if (changed.length === 1 && changed[0] === 'progress') types.push('lipsync.progress_changed');
  if ((statusChanged && status === 'failed') || (changed.includes('failed_reason') && reason !== null)) types.push('lipsync.failed');
  if (statusChanged && status === 'done') types.push('lipsync.completed');
  // A change with no more specific type (e.g. failed_reason cleared) is still a change: report it as such.
  if (types.length === 0) types.push(changed.includes('progress') ? 'lipsync.progress_changed' : 'lipsync.status_changed');
  return types;
}

/** The `lipsync.missing` event after an id was absent from `missedCycles` consecutive answers. */
export function missingEvent(lipsyncId: string, previous: TrackedFields | null, missedCycles: number, now: Date): ChangeEvent {
  const before = previous ?? NEVER_SEEN;
  return {
    id: eventId('lipsync.missing', lipsyncId, before, before, String(missedCycles)),
    type: 'lipsync.missing',
    created_at: now.toISOString(),
    data: { lipsync_id: lipsyncId, previous: before, current: before, changed: [], lipsync: null },
  };
}
