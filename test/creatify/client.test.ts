import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreatifyClient } from '../../src/creatify/client.js';
import { LsyncError } from '../../src/errors.js';
import { CreatifySimulator } from '../../src/simulator/server.js';
import { uuid } from '../helpers/lipsync.js';

const sim = new CreatifySimulator({ apiId: 'the-id', apiKey: 'the-key' });
const attempts: string[] = [];
let client: CreatifyClient;

beforeAll(async () => {
  client = new CreatifyClient({ baseUrl: `${await sim.start()}/`, apiId: 'the-id', apiKey: 'the-key', timeoutMs: 1000, retries: 2, onAttempt: (code) => attempts.push(code) });
});

beforeEach(() => {
  sim.reset();
  attempts.length = 0;
});

afterAll(async () => {
  client.close();
  await sim.stop();
});

async function rejection(promise: Promise<unknown>): Promise<LsyncError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(LsyncError);
    return err as LsyncError;
  }
  throw new Error('expected a rejection');
}

describe('CreatifyClient against the simulator', () => {
  it('sends X-API-ID / X-API-KEY and comma-separated ids, and parses the answer', async () => {
    const [a, b] = [uuid(1), uuid(2)];
    sim.set(a, { status: 'running' });
    sim.set(b, { status: 'done' });
    const result = await client.list([a, b.toUpperCase()]);
    expect(result.items.map((i) => i.id).sort()).toEqual([a, b]);
    expect(sim.requests[0]?.headers['x-api-id']).toBe('the-id');
    expect(sim.requests[0]?.headers['x-api-key']).toBe('the-key');
    expect(sim.requests[0]?.ids).toEqual([a, b]);
    expect(attempts).toEqual(['200']);
  });

  it('refuses an empty batch, 101 ids and a bad UUID before any request', async () => {
    expect((await rejection(client.list([]))).code).toBe('LSYNC_ERR_BAD_BATCH');
    expect((await rejection(client.list(Array.from({ length: 101 }, (_, i) => uuid(i))))).code).toBe('LSYNC_ERR_BAD_BATCH');
    expect((await rejection(client.list(['x']))).code).toBe('LSYNC_ERR_BAD_ID');
    expect(sim.requests).toHaveLength(0);
  });

  it('retries 5xx with backoff, then gives up with the status', async () => {
    for (let i = 0; i < 3; i += 1) sim.enqueueResponse({ status: 503, body: 'busy' });
    const err = await rejection(client.list([uuid(3)]));
    expect(err.message).toBe('Creatify answered HTTP 503');
    expect(attempts).toEqual(['503', '503', '503']);
  });

  it('does not retry 429 and reports Retry-After', async () => {
    sim.enqueueResponse({ status: 429, headers: { 'retry-after': '7' } });
    const err = await rejection(client.list([uuid(4)]));
    expect(err.code).toBe('LSYNC_ERR_RATE_LIMITED');
    expect(err.context).toEqual({ retryAfterMs: 7000 });
    expect(sim.requests).toHaveLength(1);
  });

  it('explains 401 as a credentials problem and never includes the key', async () => {
    const wrong = new CreatifyClient({ baseUrl: sim.baseUrl, apiId: 'the-id', apiKey: 'WRONG-KEY', timeoutMs: 1000, retries: 0 });
    try {
      const err = await rejection(wrong.list([uuid(5)]));
      expect(err.message).toMatch(/HTTP 401; check CREATIFY_API_ID and CREATIFY_API_KEY/);
      expect(JSON.stringify({ ...err, message: err.message })).not.toContain('WRONG-KEY');
    } finally {
      wrong.close();
    }
  });

  it('rejects a non-JSON or non-array answer with LSYNC_ERR_UPSTREAM_RESPONSE', async () => {
    sim.enqueueResponse({ status: 200, body: '<html>' });
    expect((await rejection(client.list([uuid(6)]))).message).toMatch(/not JSON/);
    sim.enqueueResponse({ status: 200, body: '{"results": []}' });
    expect((await rejection(client.list([uuid(6)]))).message).toMatch(/expected a JSON array/);
  });

  it('times out a hung upstream and reports network failures', async () => {
    const hung = http.createServer(() => undefined);
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    const port = (hung.address() as AddressInfo).port;
    const slow = new CreatifyClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 200, retries: 0, onAttempt: (code) => attempts.push(code) });
    try {
      expect((await rejection(slow.list([uuid(7)]))).message).toBe('Creatify request failed: timeout');
    } finally {
      slow.close();
      hung.closeAllConnections();
      await new Promise((r) => hung.close(r));
    }
    const refused = new CreatifyClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 200, retries: 1, onAttempt: (code) => attempts.push(code) });
    try {
      expect((await rejection(refused.list([uuid(8)]))).message).toBe('Creatify request failed: ECONNREFUSED');
    } finally {
      refused.close();
    }
    expect(attempts).toEqual(['timeout', 'network', 'network']);
  });
});
