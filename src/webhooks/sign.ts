/**
 * Standard Webhooks v1 signing, pure: the same id, timestamp, body and secret always give the same headers.
 * The signed message is exactly the body that is sent, byte for byte.
 */
import { createHmac } from 'node:crypto';
import { parseSecret } from './secret.js';

// A type alias, not an interface, so it stays assignable to plain header records.
export type SignatureHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/** Base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` (Standard Webhooks v1), without the `v1,` prefix. */
export function computeSignature(key: Uint8Array, msgId: string, timestampSeconds: number, body: string | Uint8Array): string {
  return createHmac('sha256', key)
    .update(`${msgId}.${timestampSeconds}.`)
    .update(body)
    .digest('base64');
}

/** The three Standard Webhooks headers for one delivery of `body`. */
export function signatureHeaders(secret: string, msgId: string, timestampSeconds: number, body: string | Uint8Array): SignatureHeaders {
  checkTimestamp(timestampSeconds);
  return signatureHeadersWithKey(parseSecret(secret), msgId, timestampSeconds, body);
}

/**
 * signatureHeaders() with the key bytes already decoded (parseSecret), for a sender that signs many deliveries
 * with one secret: validating and decoding the secret again for every delivery is wasted work on the hot path.
 */
export function signatureHeadersWithKey(key: Uint8Array, msgId: string, timestampSeconds: number, body: string | Uint8Array): SignatureHeaders {
  checkTimestamp(timestampSeconds);
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': `v1,${computeSignature(key, msgId, timestampSeconds, body)}`,
  };
}

function checkTimestamp(timestampSeconds: number): void {
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new RangeError(`timestampSeconds must be a non-negative integer (unix seconds), got ${timestampSeconds}`);
  }
}
