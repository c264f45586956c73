/**
 * What changed between the stored fields of a lipsync and a fresh answer, and the events that change means.
 * Pure: no clock or I/O beyond the options. Types per SPEC: the most specific that apply, in a fixed order
 * (`status_changed` or `progress_changed` first, then `failed` / `completed`), all sharing one `data` and
 * one sequence number — the lipsync's count of applied changes, which only a real change moves.
 */
import type { AnswerItem } from '../creatify/schema.js';
import { eventId } from '../events/event-id.js';
import type { ChangedField, ChangeEvent, ChangeEventData, EventType, MissingReason, TrackedFields } from '../events/types.js';
import { normalizeStatus } from '../shared/status.js';

export const NEVER_SEEN: TrackedFields = Object.freeze({ status: null, progress: null, failed_reason: null });

/** Progress is compared as given after trimming: "0.5" and "50" are both seen upstream and neither is rewritten. */
function normalizeProgress(progress: string | null): string | null {
  return progress === null ? null : progress.trim();
}

/** An empty failed_reason is no reason at all. */
function normalizeReason(reason: string | null): string | null {
  const trimmed = reason?.trim() ?? '';
  return trimmed === '' ? null : trimmed;
}

/** The part of an answer the diff reads. */
export type DiffItem = Pick<AnswerItem, 'id' | 'status' | 'progress' | 'failed_reason' | 'raw'>;

export function fieldsOf(item: DiffItem): TrackedFields {
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
  /** The lipsync's epoch (ms its state record was created): part of every event id. */
  epoch: number;
  /** Applied changes so far; a change gets `sequence + 1`. */
  sequence: number;
}

export interface DiffResult {
  current: TrackedFields;
  changed: ChangedField[];
  events: ChangeEvent[];
  terminal: boolean;
  /** The sequence after this answer: moved by one when there are events, else unchanged. */
  sequence: number;
}

/** From the last stored fields (`null` = never seen) and the item just fetched, the events to emit. */
export function diff(previous: TrackedFields | null, item: DiffItem, options: DiffOptions): DiffResult {
  const current = fieldsOf(item);
  const before = previous ?? NEVER_SEEN;
  const changed = changedFields(before, current);
  const status = normalizeStatus(current.status);
  const terminal = status !== null && options.terminalStatuses.has(status);
  const types = previous === null ? firstSightingTypes(status) : changeTypes(changed, status, normalizeReason(current.failed_reason));
  if (types.length === 0) return { current, changed, events: [], terminal, sequence: options.sequence };
  const sequence = options.sequence + 1;
  const data: ChangeEventData = { lipsync_id: item.id, sequence, previous: before, current, changed, lipsync: item.raw };
  return { current, changed, events: buildEvents(types, data, options.epoch, options.now), terminal, sequence };
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

export interface MissingOptions {
  epoch: number;
  /** Applied changes so far; the missing event is change `sequence + 1`. */
  sequence: number;
  now: Date;
  reason: MissingReason;
  /** For `unreadable`: the last validation message. */
  detail?: string;
}

/** The `lipsync.missing` event of an id that left polling without a final status. */
export function missingEvent(lipsyncId: string, previous: TrackedFields | null, options: MissingOptions): ChangeEvent {
  const before = previous ?? NEVER_SEEN;
  const data: ChangeEventData = { lipsync_id: lipsyncId, sequence: options.sequence + 1, previous: before, current: before, changed: [], lipsync: null, reason: options.reason };
  if (options.detail !== undefined) data.detail = options.detail;
  const [event] = buildEvents(['lipsync.missing'], data, options.epoch, options.now);
  return event as ChangeEvent;
}

function buildEvents(types: readonly EventType[], data: ChangeEventData, epoch: number, now: Date): ChangeEvent[] {
  const created_at = now.toISOString();
  return types.map((type) => ({ id: eventId(data.lipsync_id, epoch, data.sequence, type), type, created_at, data }));
}
