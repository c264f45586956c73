/**
 * Webhook secrets (`whsec_<base64>`, 24–64 key bytes): generating, validating and decoding them. Invariant:
 * a secret that passes secretProblem() decodes to a key of the allowed size; nothing here logs a secret.
 */
import { randomBytes } from 'node:crypto';
import { LsyncError } from '../errors.js';

/** Standard Webhooks secrets are `whsec_` followed by the base64 of the key bytes. */
export const SECRET_PREFIX = 'whsec_';
/** Key size bounds (bytes) from SPEC "Webhook delivery" and the Standard Webhooks spec. */
export const MIN_SECRET_BYTES = 24;
export const MAX_SECRET_BYTES = 64;
export const DEFAULT_SECRET_BYTES = 32;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * What is wrong with a webhook secret, or `null` when it is valid.
 * Messages never quote the value: it is a secret, and error messages end up in logs.
 */
export function secretProblem(secret: unknown): string | null {
  if (typeof secret !== 'string') return `expected a string "${SECRET_PREFIX}<base64>", got ${secret === null ? 'null' : typeof secret}`;
  if (!secret.startsWith(SECRET_PREFIX)) return `expected "${SECRET_PREFIX}<base64>", got a value without the "${SECRET_PREFIX}" prefix`;
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (encoded.length === 0) return `nothing follows the "${SECRET_PREFIX}" prefix`;
  // Buffer.from(…, 'base64') silently skips invalid characters, so check the alphabet and padding first.
  const padded = encoded.includes('=');
  if (!BASE64.test(encoded) || (padded && encoded.length % 4 !== 0) || (!padded && encoded.length % 4 === 1)) {
    return `the part after "${SECRET_PREFIX}" is not valid base64 (standard alphabet A-Z a-z 0-9 + /, optional = padding)`;
  }
  const bytes = Buffer.from(encoded, 'base64').length;
  if (bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) {
    return `the key decodes to ${bytes} bytes; expected ${MIN_SECRET_BYTES}-${MAX_SECRET_BYTES}`;
  }
  return null;
}

/** The HMAC key bytes of a `whsec_<base64>` secret; throws `LSYNC_ERR_CONFIG` naming the problem (never the value). */
export function parseSecret(secret: string, field = 'webhook secret'): Buffer {
  const problem = secretProblem(secret);
  if (problem !== null) throw new LsyncError('LSYNC_ERR_CONFIG', `${field}: ${problem}`, { field });
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

/** A fresh random secret in the `whsec_<base64>` format. */
export function generateSecret(bytes: number = DEFAULT_SECRET_BYTES): string {
  if (!Number.isInteger(bytes) || bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) {
    throw new RangeError(`secret size must be an integer ${MIN_SECRET_BYTES}-${MAX_SECRET_BYTES} bytes, got ${bytes}`);
  }
  return SECRET_PREFIX + randomBytes(bytes).toString('base64');
}
