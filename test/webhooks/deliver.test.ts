import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { isLsyncError } from '../../src/errors.js';
import { createDeliverer, validateEndpointUrl, type Deliverer, type WebhookEndpoint } from '../../src/webhooks/deliver.js';
import { verifyWebhook } from '../../src/webhooks/verify.js';
import { WebhookReceiver } from '../helpers/receiver.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const BODY = JSON.stringify({ id: 'evt_abc', type: 'lipsync.completed', created_at: '2026-01-01T00:00:00.000Z', data: {} });
const NOW = Date.parse('2026-01-01T00:00:00.000Z');

let receiver: WebhookReceiver;
let deliverer: Deliverer;
let url: string;

const endpoint = (extra: Partial<WebhookEndpoint> = {}): WebhookEndpoint => ({ name: 'test', url: `${url}/hook`, secret: SECRET, ...extra });

beforeEach(async () => {
  receiver = new WebhookReceiver();
  url = await receiver.start();
  deliverer = createDeliverer({ now: () => NOW });
});

afterEach(async () => {
  deliverer.close();
  await receiver.stop();
});

async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/hook`;
}

describe('deliver', () => {
  it('delivers on 200 with a JSON body and headers the receiver can verify', async () => {
    const result = await deliverer.deliver(endpoint(), 'evt_abc', BODY);

    expect(result).toMatchObject({ outcome: 'delivered', statusCode: 200, error: null, retryAfterMs: null });
    expect(receiver.requests).toHaveLength(1);
    const req = receiver.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/hook');
    expect(req.body).toBe(BODY);
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['user-agent']).toMatch(/^lipsync-sync\/\d+\.\d+\.\d+/);
    expect(req.headers['webhook-id']).toBe('evt_abc');
    expect(req.headers['webhook-timestamp']).toBe(String(NOW / 1000));
    expect(() => verifyWebhook({ secret: SECRET, headers: req.headers, body: req.body, now: NOW })).not.toThrow();
  });

  it('signs with the time of sending, which the reference implementation accepts', async () => {
    const live = createDeliverer();
    try {
      await live.deliver(endpoint(), 'evt_abc', BODY);
    } finally {
      live.close();
    }
    const req = receiver.requests[0]!;
    expect(new Webhook(SECRET).verify(req.body, req.headers as Record<string, string>)).toEqual(JSON.parse(BODY));
  });

  it('reuses one keep-alive connection across deliveries', async () => {
    await deliverer.deliver(endpoint(), 'evt_1', BODY);
    await deliverer.deliver(endpoint(), 'evt_2', BODY);
    expect(receiver.requests[1]!.remotePort).toBe(receiver.requests[0]!.remotePort);
  });

  it('closes its idle keep-alive connections on close()', async () => {
    await deliverer.deliver(endpoint(), 'evt_1', BODY);
    expect(receiver.openConnections).toBe(1);
    deliverer.close();
    // Well under the server's own 5 s keep-alive timeout, so only the client can have closed it.
    const deadline = Date.now() + 1000;
    while (receiver.openConnections > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(receiver.openConnections).toBe(0);
  });

  it('reports gone on 410', async () => {
    receiver.enqueue({ status: 410, body: 'endpoint disabled' });
    const result = await deliverer.deliver(endpoint(), 'evt_abc', BODY);
    expect(result).toMatchObject({ outcome: 'gone', statusCode: 410, error: 'HTTP 410', responseBody: 'endpoint disabled' });
  });

  it('treats 302 as a retry and does not follow the Location', async () => {
    receiver.enqueue({ status: 302, headers: { location: `${url}/elsewhere` } });
    const result = await deliverer.deliver(endpoint(), 'evt_abc', BODY);
    expect(result).toMatchObject({ outcome: 'retry', statusCode: 302, error: 'HTTP 302' });
    // Had the redirect been followed, the receiver's default 200 would have answered /elsewhere.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(receiver.requests.map((r) => r.url)).toEqual(['/hook']);
  });

  it('retries 4xx answers other than 410', async () => {
    receiver.enqueue({ status: 400 }, { status: 429 });
    expect(await deliverer.deliver(endpoint(), 'evt_abc', BODY)).toMatchObject({ outcome: 'retry', error: 'HTTP 400' });
    expect(await deliverer.deliver(endpoint(), 'evt_abc', BODY)).toMatchObject({ outcome: 'retry', error: 'HTTP 429' });
  });

  it('takes retryAfterMs from Retry-After on 503', async () => {
    receiver.enqueue({ status: 503, headers: { 'retry-after': '7' } });
    const result = await deliverer.deliver(endpoint(), 'evt_abc', BODY);
    expect(result).toMatchObject({ outcome: 'retry', statusCode: 503, error: 'HTTP 503', retryAfterMs: 7000 });
    expect(receiver.requests).toHaveLength(1); // the queue retries, not got
  });

  it('gives up after timeoutMs and asks for a retry', async () => {
    receiver.enqueue({ status: 200, delayMs: 3000 });
    const result = await deliverer.deliver(endpoint({ timeoutMs: 200 }), 'evt_abc', BODY);
    expect(result).toMatchObject({ outcome: 'retry', statusCode: null, error: 'timeout after 200 ms', retryAfterMs: null });
    expect(result.durationMs).toBeGreaterThanOrEqual(150);
    expect(result.durationMs).toBeLessThan(2000);
  });

  it('asks for a retry when the connection is refused', async () => {
    const result = await deliverer.deliver(endpoint({ url: await closedPortUrl() }), 'evt_abc', BODY);
    expect(result).toMatchObject({ outcome: 'retry', statusCode: null, error: 'ECONNREFUSED' });
  });

  it('asks for a retry when the connection is reset', async () => {
    receiver.handler = (_req, res) => {
      res.socket?.resetAndDestroy();
    };
    const result = await deliverer.deliver(endpoint(), 'evt_abc', BODY);
    expect(result).toMatchObject({ outcome: 'retry', statusCode: null });
    expect(result.error).toMatch(/^(ECONNRESET|EPIPE)$/);
  });

  it('reads at most maxResponseBytes of a 10 MB answer and hangs up', async () => {
    const total = 10 * 1024 * 1024;
    const chunk = Buffer.alloc(256 * 1024, 'x');
    let written = 0;
    receiver.handler = async (_req, res) => {
      res.writeHead(500, { 'content-length': String(total) });
      // Paced writes: a client that buffers everything would drain all 10 MB; one that hangs up stops us early.
      while (written < total && !res.destroyed) {
        res.write(chunk);
        written += chunk.length;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      if (!res.destroyed) res.end();
    };
    const result = await deliverer.deliver(endpoint(), 'evt_abc', BODY);

    expect(result).toMatchObject({ outcome: 'retry', statusCode: 500, error: 'HTTP 500' });
    expect(result.responseBody).toBe('x'.repeat(4096));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(written).toBeLessThan(total);
  });

  it('honours a custom maxResponseBytes', async () => {
    const small = createDeliverer({ maxResponseBytes: 10 });
    receiver.enqueue({ status: 200, body: 'abcdefghijklmnopqrstuvwxyz' });
    try {
      expect((await small.deliver(endpoint(), 'evt_abc', BODY)).responseBody).toBe('abcdefghij');
    } finally {
      small.close();
    }
  });

  it('never returns the secret, even when the receiver echoes it', async () => {
    receiver.enqueue({ status: 500, body: `bad signature for key ${SECRET}; raw ${SECRET.slice(6)}` }, { status: 200, delayMs: 1000 });
    const results = [
      await deliverer.deliver(endpoint(), 'evt_abc', BODY),
      await deliverer.deliver(endpoint({ url: await closedPortUrl() }), 'evt_abc', BODY),
      await deliverer.deliver(endpoint({ timeoutMs: 100 }), 'evt_abc', BODY),
    ];
    expect(results.map((r) => r.outcome)).toEqual(['retry', 'retry', 'retry']);
    for (const result of results) {
      expect(JSON.stringify(result)).not.toContain(SECRET.slice(6));
    }
    expect(results[0]!.responseBody).toContain('[redacted]');
  });

  it('throws a config error that does not quote an invalid secret', async () => {
    const bad = 'whsec_c2hvcnQtYnV0LXNlY3JldA==';
    let caught: unknown;
    try {
      await deliverer.deliver(endpoint({ secret: bad }), 'evt_abc', BODY);
    } catch (err) {
      caught = err;
    }
    expect(isLsyncError(caught) && caught.code).toBe('LSYNC_ERR_CONFIG');
    expect(String((caught as Error).message)).not.toContain(bad.slice(6));
    expect(receiver.requests).toHaveLength(0);
  });
});

describe('validateEndpointUrl', () => {
  it('accepts absolute http and https URLs', () => {
    expect(validateEndpointUrl('http://127.0.0.1:8080/hook')).toBeNull();
    expect(validateEndpointUrl('https://hooks.example.com/x?y=1')).toBeNull();
  });

  it('explains what is wrong with anything else', () => {
    expect(validateEndpointUrl('/relative/path')).toMatch(/absolute/);
    expect(validateEndpointUrl('ftp://example.com/')).toMatch(/scheme "ftp"/);
    expect(validateEndpointUrl('not a url')).toMatch(/does not parse/);
    expect(validateEndpointUrl('file:///etc/passwd')).toMatch(/scheme "file"/);
  });
});
