import { createHash, timingSafeEqual } from 'node:crypto';
import { LsyncError } from '../errors.js';

/**
 * Checks `Authorization: Bearer <token>` in constant time. Both sides are hashed first so the comparison
 * does not leak the token's length either. No configured token means writes are refused outright.
 */
export function checkBearer(header: string | undefined, token: string | undefined): void {
  if (token === undefined) {
    throw new LsyncError('LSYNC_ERR_FORBIDDEN', 'write routes are disabled: no API token configured; set LIPSYNC_SYNC_API_TOKEN (16+ characters) and restart', { field: 'authorization' });
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (match?.[1] === undefined) {
    throw new LsyncError('LSYNC_ERR_UNAUTHORIZED', 'missing bearer token; send Authorization: Bearer <LIPSYNC_SYNC_API_TOKEN>', { field: 'authorization' });
  }
  if (!timingSafeEqual(digest(match[1]), digest(token))) {
    throw new LsyncError('LSYNC_ERR_UNAUTHORIZED', 'wrong bearer token', { field: 'authorization' });
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
