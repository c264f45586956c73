/**
 * The shape of one entry of the events stream (`Keys.events`): the hand-off between the atomic apply step,
 * which appends it (src/store/lua/applyBatch.lua spells these names literally and points here), and the
 * webhook dispatcher, which reads it. Changing a name here means changing the Lua too.
 */
import type { ChangeEvent } from './types.js';

export const STREAM_FIELDS = {
  /** The event id (`evt_…`), which is also the webhook id. */
  id: 'id',
  type: 'type',
  lipsyncId: 'lipsync_id',
  /** The whole webhook payload, JSON. */
  event: 'event',
} as const;

/** The XADD field/value list for one event, in the order applyBatch.lua writes it. */
export function streamEntryFields(event: ChangeEvent): string[] {
  return [STREAM_FIELDS.id, event.id, STREAM_FIELDS.type, event.type, STREAM_FIELDS.lipsyncId, event.data.lipsync_id, STREAM_FIELDS.event, JSON.stringify(event)];
}
