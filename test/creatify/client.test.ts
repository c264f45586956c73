import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreatifyClient } from '../../src/creatify/client.js';
import { LsyncError } from '../../src/errors.js';
import { CreatifySimulator } from '../../src/simulator/server.js';
import { lipsync, uuid } from '../helpers/lipsync.js';

const sim = new CreatifySimulator({ apiId: 'the-id', apiKey: 'the-key' });
/** Small enough to exceed cheaply in a test; a real list answer of a few items stays far below it. */
const MAX_BYTES = 64 * 1024;
const attempts: string[] = [];
let client: CreatifyClient;

beforeAll(async () => {
  client = new CreatifyClient({ baseUrl: `${await sim.start()}/`, apiId: 'the-id', apiKey: 'the-key', timeoutMs: 1000, retries: 2, maxResponseBytes: MAX_BYTES, onAttempt: (code) => attempts.push(code) });
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
    const wrong = new CreatifyClient({ baseUrl: sim.baseUrl, apiId: 'the-id', apiKey: 'WRONG-KEY', timeoutMs: 1000, retries: 0, maxResponseBytes: MAX_BYTES });
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
    const slow = new CreatifyClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 200, retries: 0, maxResponseBytes: MAX_BYTES, onAttempt: (code) => attempts.push(code) });
    try {
      expect((await rejection(slow.list([uuid(7)]))).message).toBe('Creatify request failed: timeout');
    } finally {
      slow.close();
      hung.closeAllConnections();
      await new Promise((r) => hung.close(r));
    }
    const refused = new CreatifyClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 200, retries: 1, maxResponseBytes: MAX_BYTES, onAttempt: (code) => attempts.push(code) });
    try {
      expect((await rejection(refused.list([uuid(8)]))).message).toBe('Creatify request failed: ECONNREFUSED');
    } finally {
      refused.close();
    }
    expect(attempts).toEqual(['timeout', 'network', 'network']);
  });

  it('refuses an answer over maxResponseBytes, declared or streamed, once, without retrying', async () => {
    let requests = 0;
    let mode: 'declared' | 'chunked' | 'small' = 'declared';
    const big = http.createServer((_req, res) => {
      requests += 1;
      const item = JSON.stringify({ ...lipsync({ id: uuid(9) }), padding: 'x'.repeat(1000) });
      if (mode === 'small') return void res.writeHead(200, { 'content-type': 'application/json' }).end(`[${item}]`);
      const body = `[${Array.from({ length: 200 }, () => item).join(',')}]`; // ~200 KB
      if (mode === 'declared') return void res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      // No Content-Length: the size is only known while it streams in.
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < body.length; i += 8192) res.write(body.slice(i, i + 8192));
      res.end();
    });
    await new Promise<void>((r) => big.listen(0, '127.0.0.1', r));
    const refused: number[] = [];
    const capped = new CreatifyClient({ baseUrl: `http://127.0.0.1:${(big.address() as AddressInfo).port}`, timeoutMs: 2000, retries: 2, maxResponseBytes: MAX_BYTES, onTooLarge: (bytes) => refused.push(bytes) });
    try {
      for (const m of ['declared', 'chunked'] as const) {
        mode = m;
        requests = 0;
        const err = await rejection(capped.list([uuid(9)]));
        expect(err).toMatchObject({ code: 'LSYNC_ERR_UPSTREAM_TOO_LARGE', field: 'creatify.maxResponseBytes' });
        expect(err.message).toMatch(/^Creatify answer refused: at least \d+ bytes, over creatify\.maxResponseBytes \(65536\)/);
        expect(requests).toBe(1);
      }
      expect(refused).toHaveLength(2);
      expect(refused.every((bytes) => bytes > MAX_BYTES)).toBe(true);
      mode = 'small';
      expect((await capped.list([uuid(9)])).items).toHaveLength(1);
      expect(refused).toHaveLength(2);
    } finally {
      capped.close();
      big.closeAllConnections();
      await new Promise((r) => big.close(r));
    }
  });
});
