/**
 * Standard Webhooks v1 verification for receivers (exported from the package): a request passes only with a
 * timestamp within the tolerance and a signature computed over its raw body; comparison is constant-time.
 */
import { timingSafeEqual } from 'node:crypto';
import { parseSecret } from './secret.js';
import { computeSignature } from './sign.js';

export const DEFAULT_TOLERANCE_SECONDS = 300;

export type WebhookVerificationReason =
  | 'missing_header'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'no_matching_signature';

/** A request that does not carry a valid Standard Webhooks signature: answer it with 4xx, do not process it. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  readonly reason: WebhookVerificationReason;

  constructor(reason: WebhookVerificationReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** Node's `IncomingHttpHeaders`, a plain record, or a fetch `Headers`. */
export type HeaderSource = Record<string, string | string[] | undefined> | { get(name: string): string | null };

export interface VerifyWebhookOptions {
  /** `whsec_<base64>`; an invalid one throws `LSYNC_ERR_CONFIG` (the receiver's fault, not the sender's). */
  secret: string;
  headers: HeaderSource;
  /** The raw body exactly as received; re-serialised JSON will not verify. */
  body: string | Uint8Array;
  /** Accepted clock skew either way, seconds. */
  toleranceSeconds?: number;
  /** Current time, unix milliseconds. */
  now?: number;
}

function readHeader(headers: HeaderSource, name: string): string | undefined {
  if (typeof headers.get === 'function') return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  // Repeated signature headers each carry candidates; for the other headers the first wins.
  if (Array.isArray(value)) return name === 'webhook-signature' ? value.join(' ') : value[0];
  return value;
}

/** Throws `WebhookVerificationError` unless the request is signed with `secret` within the time tolerance. */
export function verifyWebhook(options: VerifyWebhookOptions): void {
  const { secret, headers, body, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS, now = Date.now() } = options;
  const key = parseSecret(secret);

  const id = readHeader(headers, 'webhook-id');
  const timestamp = readHeader(headers, 'webhook-timestamp');
  const signature = readHeader(headers, 'webhook-signature');
  if (!id || !timestamp || !signature) {
    const missing = Object.entries({ 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature })
      .filter(([, value]) => !value)
      .map(([name]) => name);
    throw new WebhookVerificationError('missing_header', `missing header(s): ${missing.join(', ')}`);
  }

  if (!/^\d{1,15}$/.test(timestamp)) {
    throw new WebhookVerificationError('invalid_timestamp', 'webhook-timestamp is not unix seconds');
  }
  const sentAt = Number(timestamp);
  const nowSeconds = Math.floor(now / 1000);
  if (nowSeconds - sentAt > toleranceSeconds) {
    throw new WebhookVerificationError('timestamp_too_old', `webhook-timestamp is ${nowSeconds - sentAt} s old; tolerance is ${toleranceSeconds} s`);
  }
  if (sentAt - nowSeconds > toleranceSeconds) {
    throw new WebhookVerificationError('timestamp_too_new', `webhook-timestamp is ${sentAt - nowSeconds} s in the future; tolerance is ${toleranceSeconds} s`);
  }

  const expected = Buffer.from(computeSignature(key, id, sentAt, body));
  for (const candidate of signature.split(' ')) {
    const comma = candidate.indexOf(',');
    if (comma < 0 || candidate.slice(0, comma) !== 'v1') continue;
    const given = Buffer.from(candidate.slice(comma + 1));
    // timingSafeEqual needs equal lengths; the length of a signature is no secret.
    if (given.length === expected.length && timingSafeEqual(given, expected)) return;
  }
  throw new WebhookVerificationError('no_matching_signature', 'no matching v1 signature found');
}
