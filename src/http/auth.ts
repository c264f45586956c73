import { createHash, timingSafeEqual } from 'node:crypto';
import { LsyncError } from '../errors.js';

/**
 * Decides who may use a /v1 route (SPEC "HTTP"): the API token may do everything, the optional read token may
 * only read, and with no API token configured every /v1 route is closed — stored records carry Creatify's
 * capability URLs, so an unconfigured daemon must not serve them. Tokens are compared in constant time over
 * their hashes, so neither their content nor their length leaks through timing.
 */

export interface ApiTokens {
  /** `http.apiToken`: reads and writes. */
  api: string | undefined;
  /** `http.readToken`: reads only. */
  read: string | undefined;
}

export type Access = 'read' | 'write';

/** GET and HEAD read; every other method changes something. */
export function accessFor(method: string): Access {
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}

/** Throws LSYNC_ERR_FORBIDDEN (403) or LSYNC_ERR_UNAUTHORIZED (401) unless `header` grants `access`. */
export function authorize(header: string | undefined, tokens: ApiTokens, access: Access): void {
  if (tokens.api === undefined) {
    throw new LsyncError('LSYNC_ERR_FORBIDDEN', '/v1 is closed: no API token configured; set LIPSYNC_SYNC_API_TOKEN (16+ characters) and restart', { field: 'authorization' });
  }
  const expected = access === 'read' && tokens.read !== undefined ? 'LIPSYNC_SYNC_API_TOKEN or LIPSYNC_SYNC_READ_TOKEN' : 'LIPSYNC_SYNC_API_TOKEN';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (match?.[1] === undefined) {
    throw new LsyncError('LSYNC_ERR_UNAUTHORIZED', `missing bearer token; send Authorization: Bearer <${expected}>`, { field: 'authorization' });
  }
  const given = digest(match[1]);
  if (timingSafeEqual(given, digest(tokens.api))) return;
  if (tokens.read !== undefined && timingSafeEqual(given, digest(tokens.read))) {
    if (access === 'read') return;
    throw new LsyncError('LSYNC_ERR_FORBIDDEN', 'the read token may only read; send LIPSYNC_SYNC_API_TOKEN for this route', { field: 'authorization' });
  }
  throw new LsyncError('LSYNC_ERR_UNAUTHORIZED', `wrong bearer token; send Authorization: Bearer <${expected}>`, { field: 'authorization' });
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
