import type { Lipsync } from '../creatify/schema.js';

export const EVENT_TYPES = [
  'lipsync.tracked',
  'lipsync.status_changed',
  'lipsync.progress_changed',
  'lipsync.failed',
  'lipsync.completed',
  'lipsync.missing',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** The three fields whose changes are events. `null` everywhere means "never seen". */
export interface TrackedFields {
  status: string | null;
  progress: string | null;
  failed_reason: string | null;
}

export type ChangedField = keyof TrackedFields;

export interface ChangeEventData {
  lipsync_id: string;
  previous: TrackedFields;
  current: TrackedFields;
  changed: ChangedField[];
  /** The full object from Creatify; `null` for `lipsync.missing`, which has no answer to carry. */
  lipsync: Lipsync | null;
}

/** The webhook payload of SPEC "Change events". */
export interface ChangeEvent {
  id: string;
  type: EventType;
  created_at: string;
  data: ChangeEventData;
}
