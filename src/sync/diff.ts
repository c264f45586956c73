/**
 * What changed between the stored fields of a lipsync and a fresh answer, and the events that change means.
 * Pure: no clock or I/O beyond the options. Types per SPEC: the most specific that apply, in a fixed order
 * (`status_changed` or `progress_changed` first, then `failed` / `completed`, then `recovered` when the
 * lipsync had been reported stalled), all sharing one `data` and one sequence number — the lipsync's count of
 * applied changes, which only a real change (or a missing/stalled report) moves.
 */
import type { AnswerItem } from '../creatify/schema.js';
import { eventId } from '../events/event-id.js';
import type { ChangedField, ChangeEvent, ChangeEventData, EventType, MissingReason, TrackedFields } from '../events/types.js';
import { normalizeStatus } from '../shared/status.js';
import { estimateCompletion, progressFraction, type ProgressOrigin } from '../shared/progress.js';

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
  /** First parsed progress reading of the current status run (for the ETA); null when none yet. */
  origin?: ProgressOrigin | null;
  /** Ms since which the lipsync was reported stalled, or null: a change then also emits `lipsync.recovered`. */
  stalledSinceMs?: number | null;
}

export interface DiffResult {
  current: TrackedFields;
  changed: ChangedField[];
  events: ChangeEvent[];
  terminal: boolean;
  /** The sequence after this answer: moved by one when there are events, else unchanged. */
  sequence: number;
  /** The progress origin to keep: reset when the status changed, set at the first parsed reading. */
  origin: ProgressOrigin | null;
}

/** From the last stored fields (`null` = never seen) and the item just fetched, the events to emit. */
export function diff(previous: TrackedFields | null, item: DiffItem, options: DiffOptions): DiffResult {
  const current = fieldsOf(item);
  const before = previous ?? NEVER_SEEN;
  const changed = changedFields(before, current);
  const status = normalizeStatus(current.status);
  const terminal = status !== null && options.terminalStatuses.has(status);
  const nowMs = options.now.getTime();
  const fraction = progressFraction(current.progress);
  const restart = previous === null || changed.includes('status');
  const kept = restart ? null : (options.origin ?? null);
  const origin = kept ?? (fraction === null ? null : { fraction, atMs: nowMs });
  const types = previous === null ? firstSightingTypes(status) : changeTypes(changed, status, normalizeReason(current.failed_reason));
  if (types.length === 0) return { current, changed, events: [], terminal, sequence: options.sequence, origin: options.origin ?? origin };
  const stalledSince = options.stalledSinceMs ?? null;
  if (stalledSince !== null) types.push('lipsync.recovered');
  const sequence = options.sequence + 1;
  const data: ChangeEventData = { lipsync_id: item.id, sequence, previous: before, current, changed, lipsync: item.raw };
  const eta = status === 'running' ? estimateCompletion(origin, fraction, nowMs) : null;
  if (eta !== null) data.eta = new Date(eta).toISOString();
  if (stalledSince !== null) data.stalled_since = new Date(stalledSince).toISOString();
  return { current, changed, events: buildEvents(types, data, options.epoch, options.now), terminal, sequence, origin };
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

export interface MarkerOptions {
  epoch: number;
  /** Applied changes so far; the report is change `sequence + 1`. */
  sequence: number;
  now: Date;
}

export interface MissingOptions extends MarkerOptions {
  reason: MissingReason;
  /** For `unreadable`: the last validation message. */
  detail?: string;
}

/** The `lipsync.missing` event of an id that left polling without a final status. */
export function missingEvent(lipsyncId: string, previous: TrackedFields | null, options: MissingOptions): ChangeEvent {
  const data = markerData(lipsyncId, previous, null, options);
  data.reason = options.reason;
  if (options.detail !== undefined) data.detail = options.detail;
  return buildEvents(['lipsync.missing'], data, options.epoch, options.now)[0] as ChangeEvent;
}

/** The `lipsync.stalled` event of an id that has not moved for longer than its status allows. */
export function stalledEvent(item: DiffItem, stored: TrackedFields, options: MarkerOptions & { sinceMs: number }): ChangeEvent {
  const data = markerData(item.id, stored, item.raw, options);
  data.stalled_since = new Date(options.sinceMs).toISOString();
  return buildEvents(['lipsync.stalled'], data, options.epoch, options.now)[0] as ChangeEvent;
}

function markerData(lipsyncId: string, previous: TrackedFields | null, raw: Record<string, unknown> | null, options: MarkerOptions): ChangeEventData {
  const before = previous ?? NEVER_SEEN;
  return { lipsync_id: lipsyncId, sequence: options.sequence + 1, previous: before, current: before, changed: [], lipsync: raw };
}

function buildEvents(types: readonly EventType[], data: ChangeEventData, epoch: number, now: Date): ChangeEvent[] {
  const created_at = now.toISOString();
  return types.map((type) => ({ id: eventId(data.lipsync_id, epoch, data.sequence, type), type, created_at, data }));
}
