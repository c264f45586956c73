import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { signatureHeaders } from '../../src/webhooks/sign.js';
import { verifyWebhook } from '../../src/webhooks/verify.js';

// A fixed 24-byte key, so the expected signature below is computed independently of our code.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const BODY = '{"id":"evt_1","type":"lipsync.completed","data":{"lipsync_id":"x","note":"ünïcode"}}';

/** Straight from the spec text: base64(HMAC-SHA256(base64decode(secret), "{id}.{timestamp}.{body}")). */
function specSignature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return 'v1,' + createHmac('sha256', key).update(`${id}.${timestamp}.${body}`, 'utf8').digest('base64');
}

describe('signatureHeaders', () => {
  it('produces the three Standard Webhooks headers with the spec signature', () => {
    const ts = 1_767_225_600;
    expect(signatureHeaders(SECRET, 'evt_1', ts, BODY)).toEqual({
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(ts),
      'webhook-signature': specSignature(SECRET, 'evt_1', ts, BODY),
    });
  });

  it('changes with the id, the timestamp and the body', () => {
    const base = signatureHeaders(SECRET, 'evt_1', 1000, BODY)['webhook-signature'];
    expect(signatureHeaders(SECRET, 'evt_2', 1000, BODY)['webhook-signature']).not.toBe(base);
    expect(signatureHeaders(SECRET, 'evt_1', 1001, BODY)['webhook-signature']).not.toBe(base);
    expect(signatureHeaders(SECRET, 'evt_1', 1000, BODY + ' ')['webhook-signature']).not.toBe(base);
  });

  it('is accepted by the standardwebhooks reference implementation', () => {
    const headers = signatureHeaders(SECRET, 'evt_ref', Math.floor(Date.now() / 1000), BODY);
    expect(new Webhook(SECRET).verify(BODY, { ...headers })).toEqual(JSON.parse(BODY));
  });

  it('verifies what the standardwebhooks reference implementation signs', () => {
    const at = new Date();
    const signature = new Webhook(SECRET).sign('evt_ref', at, BODY);
    const headers = { 'webhook-id': 'evt_ref', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature };
    expect(() => verifyWebhook({ secret: SECRET, headers, body: BODY })).not.toThrow();
  });

  it('refuses a non-integer timestamp', () => {
    expect(() => signatureHeaders(SECRET, 'evt_1', 1.5, BODY)).toThrow(RangeError);
  });
});
