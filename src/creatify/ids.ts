import { LsyncError } from '../errors.js';

/** The list endpoint's path, shared by the client and the simulator that stands in for it. */
export const LIST_PATH = '/api/lipsyncs_v2/';

/** The list endpoint's documented maximum number of ids per request. */
export const MAX_IDS_PER_REQUEST = 100;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Canonical form used everywhere (Redis keys, comparisons): trimmed, lower-case. */
export function normalizeId(raw: string): string {
  return raw.trim().toLowerCase();
}

export function isLipsyncId(raw: string): boolean {
  return UUID.test(normalizeId(raw));
}

/** Normalises one id or throws LSYNC_ERR_BAD_ID naming the position and the value. */
export function parseLipsyncId(raw: unknown, field = 'id'): string {
  if (typeof raw !== 'string' || !isLipsyncId(raw)) {
    const shown = typeof raw === 'string' ? JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}…` : raw) : typeof raw;
    throw new LsyncError('LSYNC_ERR_BAD_ID', `${field}: ${shown} is not a lipsync UUID (expected 8-4-4-4-12 hex digits)`, { field });
  }
  return normalizeId(raw);
}

/** The `ids` query value for one list request: 1..100 valid UUIDs, or a clear error. */
export function buildIdsQuery(ids: readonly string[]): string {
  if (ids.length === 0) {
    throw new LsyncError('LSYNC_ERR_BAD_BATCH', 'ids: empty batch; the list endpoint needs 1 to 100 ids', { field: 'ids' });
  }
  if (ids.length > MAX_IDS_PER_REQUEST) {
    throw new LsyncError('LSYNC_ERR_BAD_BATCH', `ids: ${ids.length} ids in one request; the list endpoint takes at most ${MAX_IDS_PER_REQUEST}, split the batch`, { field: 'ids' });
  }
  return ids.map((id, i) => parseLipsyncId(id, `ids[${i}]`)).join(',');
}
