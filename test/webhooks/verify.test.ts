import { signatureHeaders } from '../../src/webhooks/sign.js';
import { verifyWebhook, WebhookVerificationError, type WebhookVerificationReason } from '../../src/webhooks/verify.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OTHER_SECRET = 'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX';
const BODY = '{"id":"evt_1","type":"lipsync.failed"}';
const NOW = 1_767_225_600_000;
const TS = NOW / 1000;

function reasonOf(fn: () => void): WebhookVerificationReason | 'no error' {
  try {
    fn();
  } catch (err) {
    if (err instanceof WebhookVerificationError) return err.reason;
    throw err;
  }
  return 'no error';
}

describe('verifyWebhook', () => {
  const headers = signatureHeaders(SECRET, 'evt_1', TS, BODY);

  it('accepts a correctly signed request, with headers in any case', () => {
    expect(reasonOf(() => verifyWebhook({ secret: SECRET, headers, body: BODY, now: NOW }))).toBe('no error');
    const upper = { 'Webhook-Id': headers['webhook-id'], 'WEBHOOK-TIMESTAMP': headers['webhook-timestamp'], 'Webhook-Signature': headers['webhook-signature'] };
    expect(reasonOf(() => verifyWebhook({ secret: SECRET, headers: upper, body: Buffer.from(BODY), now: NOW }))).toBe('no error');
  });

  it('rejects a tampered body', () => {
    expect(reasonOf(() => verifyWebhook({ secret: SECRET, headers, body: BODY.replace('failed', 'completed'), now: NOW }))).toBe('no_matching_signature');
  });

  it('rejects a signature made with another secret', () => {
    expect(reasonOf(() => verifyWebhook({ secret: OTHER_SECRET, headers, body: BODY, now: NOW }))).toBe('no_matching_signature');
  });

  it('rejects a tampered id', () => {
    expect(reasonOf(() => verifyWebhook({ secret: SECRET, headers: { ...headers, 'webhook-id': 'evt_2' }, body: BODY, now: NOW }))).toBe('no_matching_signature');
  });

  it('rejects a timestamp older than the tolerance and one too far in the future', () => {
    expect(reasonOf(() => verifyWebhook({ secret: SECRET, headers, body: BODY, now: NOW + 301_000 }))).toBe('timestamp_too_old');
    expect(reasonOf(() => verifyWebhook({ secret: SECRET, headers, body: BODY, now: NOW + 300_000 }))).toBe('no error');
    expect(reasonOf(() => verifyWebhook({ secret: SECRET, headers, body: BODY, now: NOW - 301_000 }))).toBe('timestamp_too_new');
    expect(reasonOf(() => verifyWebhook({ secret: SECRET, headers, body: BODY, now: NOW + 20_000, toleranceSeconds: 10 }))).toBe('timestamp_too_old');
  });

  it('rejects a missing header and names it', () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const) {
      const partial: Record<string, string> = { ...headers };
      delete partial[name];
      expect(() => verifyWebhook({ secret: SECRET, headers: partial, body: BODY, now: NOW })).toThrow(new RegExp(name));
      expect(reasonOf(() => verifyWebhook({ secret: SECRET, headers: partial, body: BODY, now: NOW }))).toBe('missing_header');
    }
  });

  it('rejects a timestamp that is not unix seconds', () => {
    const bad = { ...headers, 'webhook-timestamp': '2026-01-01T00:00:00Z' };
    expect(reasonOf(() => verifyWebhook({ secret: SECRET, headers: bad, body: BODY, now: NOW }))).toBe('invalid_timestamp');
  });

  it('accepts one valid signature among several, and ignores other versions', () => {
    const good = headers['webhook-signature'];
    const wrong = signatureHeaders(OTHER_SECRET, 'evt_1', TS, BODY)['webhook-signature'];
    const sig = `v1,bm90LWl0 ${wrong} v2,${good.slice(3)} ${good}`;
    expect(reasonOf(() => verifyWebhook({ secret: SECRET, headers: { ...headers, 'webhook-signature': sig }, body: BODY, now: NOW }))).toBe('no error');
    // The same signature under a version other than v1 must not count.
    const onlyV2 = `${wrong} v2,${good.slice(3)}`;
    expect(reasonOf(() => verifyWebhook({ secret: SECRET, headers: { ...headers, 'webhook-signature': onlyV2 }, body: BODY, now: NOW }))).toBe('no_matching_signature');
  });

  it('reads a fetch Headers object', () => {
    const fetchHeaders = new Headers(headers);
    expect(reasonOf(() => verifyWebhook({ secret: SECRET, headers: fetchHeaders, body: BODY, now: NOW }))).toBe('no error');
  });

  it('has a literal error name', () => {
    const err = new WebhookVerificationError('missing_header', 'x');
    expect(err.name).toBe('WebhookVerificationError');
    expect(err).toBeInstanceOf(Error);
  });
});
