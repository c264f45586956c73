export const EVENT_TYPES = [
  'lipsync.tracked',
  'lipsync.status_changed',
  'lipsync.progress_changed',
  'lipsync.failed',
  'lipsync.completed',
  'lipsync.missing',
  'lipsync.stalled',
  'lipsync.recovered',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** The three fields whose changes are events. `null` everywhere means "never seen". */
export interface TrackedFields {
  status: string | null;
  progress: string | null;
  failed_reason: string | null;
}

export type ChangedField = keyof TrackedFields;

/** Why a lipsync left polling without a final status (`lipsync.missing`). */
export type MissingReason = 'absent' | 'unreadable';

export interface ChangeEventData {
  lipsync_id: string;
  /** The lipsync's count of applied changes (1, 2, 3, …): receivers can order and detect gaps. */
  sequence: number;
  previous: TrackedFields;
  current: TrackedFields;
  changed: ChangedField[];
  /** The full object from Creatify, exactly as received; `null` for `lipsync.missing`, which has no answer to carry. */
  lipsync: Record<string, unknown> | null;
  /** `lipsync.missing` only: absent from answers, or answered but unreadable. */
  reason?: MissingReason;
  /** `lipsync.missing` with reason `unreadable`: the last validation message. */
  detail?: string;
  /** Estimated completion (ISO 8601) of a running lipsync, from its progress over time; absent when unknown. */
  eta?: string;
  /** `lipsync.stalled` and `lipsync.recovered`: since when the lipsync had not moved (ISO 8601). */
  stalled_since?: string;
}

/** The webhook payload of SPEC "Change events". */
export interface ChangeEvent {
  id: string;
  type: EventType;
  created_at: string;
  data: ChangeEventData;
}
