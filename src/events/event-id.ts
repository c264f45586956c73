import { createHash } from 'node:crypto';
import type { EventType, TrackedFields } from './types.js';

/**
 * Deterministic event id: the same change seen by a second replica, or replayed, gets the same id, so
 * receivers can dedupe on `webhook-id`. The type is part of the hash because one diff can emit several
 * types with the same before/after (e.g. status_changed + failed), and each must be its own message.
 */
export function eventId(type: EventType, lipsyncId: string, previous: TrackedFields, current: TrackedFields, extra = ''): string {
  const material = JSON.stringify([type, lipsyncId, fields(previous), fields(current), extra]);
  return `evt_${createHash('sha256').update(material).digest('hex')}`;
}

function fields(f: TrackedFields): [string | null, string | null, string | null] {
  return [f.status, f.progress, f.failed_reason];
}
