import { generateSecret, signatureHeaders, verifyWebhook, WebhookVerificationError } from '../src/index.js';

describe('package entry point', () => {
  it('lets a receiver verify what the daemon signs, and rejects a tampered body', () => {
    const secret = generateSecret();
    const body = JSON.stringify({ id: 'evt_1', type: 'lipsync.completed' });
    const headers = signatureHeaders(secret, 'evt_1', Math.floor(Date.now() / 1000), body);
    expect(() => verifyWebhook({ secret, headers, body })).not.toThrow();
    expect(() => verifyWebhook({ secret, headers, body: body.replace('completed', 'failed') })).toThrow(WebhookVerificationError);
  });
});
