import { createHash } from 'node:crypto';
import type { EventType } from './types.js';

/**
 * Event id per applied change (SPEC "Decisions"): `evt_` + hex sha256 of `lipsync_id|epoch|sequence|type`.
 * The same applied change — seen by a second replica, or replayed — gets the same id, so receivers can dedupe
 * on `webhook-id`; a transition that happens again later has a new sequence and so a new id. `epoch` (ms when
 * the lipsync's state record was created) keeps ids unique across a re-track after expiry or a flushed Redis.
 * The type is hashed too: one change can emit several types (status_changed + failed), each its own message.
 */
export function eventId(lipsyncId: string, epoch: number, sequence: number, type: EventType): string {
  return `evt_${createHash('sha256').update(`${lipsyncId}|${epoch}|${sequence}|${type}`).digest('hex')}`;
}
