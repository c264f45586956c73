import { pino } from 'pino';
import { buildHttpServer, type Readiness } from '../../src/http/server.js';
import { keysFor } from '../../src/store/keys.js';
import { TrackingStore } from '../../src/store/tracking.js';
import { uuid } from '../helpers/lipsync.js';
import { cleanupPrefix, newRedis, uniquePrefix } from '../helpers/redis.js';

const TOKEN = 'test-token-0123456789abcdef';
const READ_TOKEN = 'read-token-0123456789abcdef';
const prefix = uniquePrefix('http');
const redis = newRedis();
const store = new TrackingStore(redis, keysFor(prefix), 600);
let ready: Readiness = { ready: true, checks: { redis: { ok: true } } };
const replays: Array<string | undefined> = [];

function server(api: string | undefined, read: string | undefined = READ_TOKEN) {
  return buildHttpServer({
    store,
    tokens: { api, read },
    logger: pino({ level: 'silent' }),
    metrics: async () => ({ contentType: 'text/plain; version=0.0.4', body: 'lipsync_sync_up 1\n' }),
    readiness: async () => ready,
    replayDeadLetters: async (endpoint) => {
      replays.push(endpoint);
      return { replayed: 2 };
    },
  });
}

const app = server(TOKEN);
const noToken = server(undefined);
let base = '';
let baseNoToken = '';

async function call(path: string, init: { method?: string; body?: unknown; token?: string | null; raw?: string; url?: string } = {}) {
  const headers: Record<string, string> = {};
  if (init.body !== undefined || init.raw !== undefined) headers['content-type'] = 'application/json';
  if (init.token !== null) headers['authorization'] = `Bearer ${init.token ?? TOKEN}`;
  const res = await fetch(`${init.url ?? base}${path}`, { method: init.method ?? 'GET', headers, ...(init.raw !== undefined ? { body: init.raw } : init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') || text.startsWith('[') ? (JSON.parse(text) as Record<string, unknown>) : text, type: res.headers.get('content-type') };
}

beforeAll(async () => {
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  baseNoToken = await noToken.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await Promise.all([app.close(), noToken.close()]);
  await cleanupPrefix(prefix);
  await redis.quit();
});

describe('HTTP API (real HTTP, real Redis)', () => {
  it('answers health, readiness and metrics without a token', async () => {
    expect(await call('/healthz', { token: null })).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect((await call('/metrics', { token: null })).body).toContain('lipsync_sync_up 1');
    ready = { ready: false, checks: { redis: { ok: false, detail: 'ECONNREFUSED' } } };
    expect(await call('/readyz', { token: null })).toMatchObject({ status: 503, body: { status: 'not ready', checks: { redis: { ok: false } } } });
    ready = { ready: true, checks: { redis: { ok: true } } };
    expect((await call('/readyz', { token: null })).status).toBe(200);
    expect((await call('/healthz', { token: null, url: baseNoToken })).status).toBe(200);
  });

  it('refuses writes without a token (401), with a wrong one (401), and when none is configured (403)', async () => {
    const body = { ids: [uuid(1)] };
    expect(await call('/v1/lipsyncs', { method: 'POST', body, token: null })).toMatchObject({ status: 401, body: { error: 'LSYNC_ERR_UNAUTHORIZED', field: 'authorization' } });
    expect((await call('/v1/lipsyncs', { method: 'POST', body, token: 'wrong-token-0123456789' })).status).toBe(401);
    const forbidden = await call('/v1/lipsyncs', { method: 'POST', body, url: baseNoToken });
    expect(forbidden).toMatchObject({ status: 403, body: { error: 'LSYNC_ERR_FORBIDDEN' } });
    expect((forbidden.body as { message: string }).message).toMatch(/LIPSYNC_SYNC_API_TOKEN/);
    expect(await store.get(uuid(1))).toBeNull();
  });

  it('refuses reads without a token or with a wrong one, and accepts the read token and the API token', async () => {
    const id = uuid(2);
    await call('/v1/lipsyncs', { method: 'POST', body: { ids: [id] } });
    for (const path of [`/v1/lipsyncs/${id}`, '/v1/lipsyncs', '/v1/lipsyncs?status=new']) {
      const refused = await call(path, { token: null });
      expect(refused).toMatchObject({ status: 401, body: { error: 'LSYNC_ERR_UNAUTHORIZED', field: 'authorization' } });
      expect((refused.body as { message: string }).message).toMatch(/LIPSYNC_SYNC_READ_TOKEN/);
      expect(JSON.stringify(refused.body)).not.toContain(id);
      expect((await call(path, { token: 'wrong-token-0123456789' })).status).toBe(401);
      expect((await call(path, { token: READ_TOKEN })).status).toBe(200);
      expect((await call(path)).status).toBe(200);
    }
    expect((await call(`/v1/lipsyncs/${id}`, { token: READ_TOKEN })).body).toMatchObject({ id, pending: true });
  });

  it('refuses every write with the read token (403) and leaves the store untouched', async () => {
    const id = uuid(3);
    const writes = [
      call('/v1/lipsyncs', { method: 'POST', body: { ids: [id] }, token: READ_TOKEN }),
      call(`/v1/lipsyncs/${uuid(2)}`, { method: 'DELETE', token: READ_TOKEN }),
      call('/v1/dead-letters/replay', { method: 'POST', body: {}, token: READ_TOKEN }),
    ];
    for (const res of await Promise.all(writes)) {
      expect(res).toMatchObject({ status: 403, body: { error: 'LSYNC_ERR_FORBIDDEN', message: expect.stringMatching(/read token may only read.*LIPSYNC_SYNC_API_TOKEN/) } });
    }
    expect(await store.get(id)).toBeNull();
    expect(await store.get(uuid(2))).toMatchObject({ pending: true });
    expect(replays).toEqual([]);
  });

  it('answers unknown /v1 paths with 401 without a token and 404 with one', async () => {
    expect(await call('/v1/nothing-here', { token: null })).toMatchObject({ status: 401, body: { error: 'LSYNC_ERR_UNAUTHORIZED' } });
    expect(await call('/v1/nothing-here', { token: READ_TOKEN })).toMatchObject({ status: 404, body: { error: 'LSYNC_ERR_NOT_FOUND' } });
    expect(await call('/nothing-here', { token: null })).toMatchObject({ status: 404, body: { error: 'LSYNC_ERR_NOT_FOUND' } });
  });

  it('closes every /v1 route, reads too, when no API token is configured', async () => {
    for (const token of [null, READ_TOKEN, TOKEN]) {
      const res = await call('/v1/lipsyncs', { token, url: baseNoToken });
      expect(res).toMatchObject({ status: 403, body: { error: 'LSYNC_ERR_FORBIDDEN' } });
      expect((res.body as { message: string }).message).toMatch(/^\/v1 is closed: .*set LIPSYNC_SYNC_API_TOKEN/);
    }
  });

  it('checks the token before reading the body: garbage or oversized bodies without a token get 401', async () => {
    expect(await call('/v1/lipsyncs', { method: 'POST', raw: '{"ids": [', token: null })).toMatchObject({ status: 401, body: { error: 'LSYNC_ERR_UNAUTHORIZED' } });
    expect(await call('/v1/lipsyncs', { method: 'POST', raw: JSON.stringify({ ids: ['x'.repeat(2 * 1024 * 1024)] }), token: null })).toMatchObject({ status: 401 });
    expect(await call('/v1/lipsyncs', { method: 'POST', raw: '{"ids": [', token: READ_TOKEN })).toMatchObject({ status: 403 });
    // With the token, the same bodies reach the parser.
    expect((await call('/v1/lipsyncs', { method: 'POST', raw: '{"ids": [' })).status).toBe(400);
  });

  it('tracks ids and reports accepted, already tracked and rejected with reasons', async () => {
    const [a, b] = [uuid(10), uuid(11)];
    expect((await call('/v1/lipsyncs', { method: 'POST', body: { ids: [a] } })).status).toBe(200);
    const res = await call('/v1/lipsyncs', { method: 'POST', body: { ids: [a, b.toUpperCase(), 'not-a-uuid'] } });
    expect(res).toMatchObject({ status: 200, body: { accepted: [b], already_tracked: [a], already_terminal: [], rejected: [{ id: 'not-a-uuid', reason: expect.stringMatching(/ids\[2\]: not a lipsync UUID/) }] } });
  });

  it('answers 422 when no id is valid, 400 for a bad body, 413 for too many ids or too large a body', async () => {
    expect(await call('/v1/lipsyncs', { method: 'POST', body: { ids: ['x'] } })).toMatchObject({ status: 422 });
    expect(await call('/v1/lipsyncs', { method: 'POST', body: { ids: [] } })).toMatchObject({ status: 400, body: { error: 'LSYNC_ERR_USAGE', field: 'ids' } });
    expect(await call('/v1/lipsyncs', { method: 'POST', body: { idz: [uuid(1)] } })).toMatchObject({ status: 400 });
    expect(await call('/v1/lipsyncs', { method: 'POST', raw: '{"ids": [' })).toMatchObject({ status: 400, body: { field: 'body' } });
    const tooMany = Array.from({ length: 10_001 }, (_, i) => uuid(100_000 + i));
    expect(await call('/v1/lipsyncs', { method: 'POST', body: { ids: tooMany } })).toMatchObject({ status: 413, body: { error: 'LSYNC_ERR_TOO_LARGE', field: 'ids' } });
    expect(await call('/v1/lipsyncs', { method: 'POST', raw: JSON.stringify({ ids: ['x'.repeat(2 * 1024 * 1024)] }) })).toMatchObject({ status: 413 });
  });

  it('tracks 10,000 ids in one call and pages through them exactly once', async () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => uuid(200_000 + i));
    const res = await call('/v1/lipsyncs', { method: 'POST', body: { ids } });
    expect((res.body as { accepted: string[] }).accepted).toHaveLength(10_000);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { body: unknown } = await call(`/v1/lipsyncs?limit=1000${cursor === null ? '' : `&cursor=${cursor}`}`);
      const body = page.body as { items: Array<{ id: string; status: string }>; cursor: string | null };
      seen.push(...body.items.map((i) => i.id));
      cursor = body.cursor;
      pages += 1;
    } while (cursor !== null && pages < 200);
    const mine = seen.filter((id) => ids.includes(id));
    expect(new Set(mine).size).toBe(10_000);
    expect(mine).toHaveLength(10_000);
    expect((await call('/v1/lipsyncs?status=running')).body).toMatchObject({ items: [] });
    expect((await call('/v1/lipsyncs?cursor=abc')).status).toBe(400);
  });

  it('gets, untracks and 404s single lipsyncs', async () => {
    const id = uuid(20);
    await call('/v1/lipsyncs', { method: 'POST', body: { ids: [id] } });
    expect(await call(`/v1/lipsyncs/${id}`)).toMatchObject({ status: 200, body: { id, pending: true, status: null, tracked_at: expect.any(String) } });
    expect(await call(`/v1/lipsyncs/${id}`, { method: 'DELETE' })).toMatchObject({ status: 200, body: { untracked: true } });
    expect(await call(`/v1/lipsyncs/${id}`, { method: 'DELETE' })).toMatchObject({ status: 404, body: { error: 'LSYNC_ERR_NOT_FOUND' } });
    expect(await call(`/v1/lipsyncs/${uuid(21)}`)).toMatchObject({ status: 404 });
    expect(await call('/v1/lipsyncs/nope')).toMatchObject({ status: 422, body: { error: 'LSYNC_ERR_BAD_ID', field: 'id' } });
    expect((await call(`/v1/lipsyncs/${uuid(22)}`, { method: 'DELETE', token: null })).status).toBe(401);
  });

  it('replays dead letters behind the token', async () => {
    expect(await call('/v1/dead-letters/replay', { method: 'POST', body: { endpoint: 'ops' } })).toMatchObject({ status: 200, body: { replayed: 2 } });
    expect(await call('/v1/dead-letters/replay', { method: 'POST' })).toMatchObject({ status: 200 });
    expect(replays).toEqual(['ops', undefined]);
    expect((await call('/v1/dead-letters/replay', { method: 'POST', token: null })).status).toBe(401);
  });

  it('answers 503 with JSON when Redis is unreachable', async () => {
    const { Redis } = await import('ioredis');
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    dead.on('error', () => undefined);
    const broken = buildHttpServer({ store: new TrackingStore(dead, keysFor(prefix), 600), tokens: { api: TOKEN, read: undefined }, logger: pino({ level: 'silent' }), metrics: async () => ({ contentType: 'text/plain', body: '' }), readiness: async () => ready, replayDeadLetters: async () => ({ replayed: 0 }) });
    const url = await broken.listen({ port: 0, host: '127.0.0.1' });
    try {
      expect(await call(`/v1/lipsyncs/${uuid(30)}`, { url })).toMatchObject({ status: 503, body: { error: 'LSYNC_ERR_REDIS_UNAVAILABLE' } });
    } finally {
      await broken.close();
      dead.disconnect();
    }
  });
});
