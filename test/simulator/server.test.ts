import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { lipsyncSchema, parseListResponse } from '../../src/creatify/schema.js';
import { CreatifySimulator, type SimulatorOptions } from '../../src/simulator/server.js';
import { waitUntil } from '../helpers/redis.js';

const A = '3c90c3cc-0d44-4b50-8888-8dd25736052a';
const B = '11111111-2222-4333-8444-555555555555';
const C = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';

const started: CreatifySimulator[] = [];

async function startSim(options: SimulatorOptions = {}): Promise<CreatifySimulator> {
  const sim = new CreatifySimulator(options);
  started.push(sim);
  await sim.start();
  return sim;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

async function list(sim: CreatifySimulator, ids?: string[] | string, init: RequestInit = {}): Promise<Reply> {
  const query = ids === undefined ? '' : `?ids=${Array.isArray(ids) ? ids.join(',') : ids}`;
  const res = await fetch(`${sim.baseUrl}/api/lipsyncs_v2/${query}`, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

function items(reply: Reply): Array<Record<string, unknown>> {
  expect(reply.status).toBe(200);
  expect(Array.isArray(reply.json)).toBe(true);
  return reply.json as Array<Record<string, unknown>>;
}

function uuid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

describe('CreatifySimulator', () => {
  it('baseUrl throws before start and after stop', async () => {
    const sim = new CreatifySimulator();
    expect(() => sim.baseUrl).toThrow();
    const url = await sim.start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sim.baseUrl).toBe(url);
    await sim.stop();
    expect(() => sim.baseUrl).toThrow();
  });

  it('set/get/remove are reflected in answers, which validate with lipsyncSchema', async () => {
    const sim = await startSim();
    const a = sim.set(A);
    expect(lipsyncSchema.safeParse(a).success).toBe(true);
    expect(sim.get(A)).toEqual(a);

    const reply = await list(sim, [A, B]);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    let got = items(reply);
    expect(got).toEqual([a]);

    const updated = sim.set(A, { status: 'running', progress: '0.4' });
    expect(Date.parse(updated.updated_at)).toBeGreaterThan(Date.parse(a.updated_at));
    expect(updated.created_at).toBe(a.created_at);
    sim.set(B, { status: 'done', progress: '1', output: 'https://x/o.mp4' });

    got = items(await list(sim, [A.toUpperCase(), B]));
    expect(got).toHaveLength(2);
    const byId = new Map(got.map((o) => [o['id'], o]));
    expect(byId.get(A)).toMatchObject({ status: 'running', progress: '0.4' });
    expect(byId.get(B)).toMatchObject({ status: 'done', output: 'https://x/o.mp4' });
    const parsed = parseListResponse(got);
    expect('items' in parsed && parsed.items.length === 2 && parsed.malformed.length === 0).toBe(true);

    sim.remove(A);
    expect(sim.get(A)).toBeUndefined();
    got = items(await list(sim, [A, B]));
    expect(got.map((o) => o['id'])).toEqual([B]);

    // Also served without the trailing slash.
    const res = await fetch(`${sim.baseUrl}/api/lipsyncs_v2?ids=${B}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Array<{ id: string }>).map((o) => o.id)).toEqual([B]);
  });

  it('returned objects are copies: mutating them does not change the server state', async () => {
    const sim = await startSim();
    const a = sim.set(A);
    a.status = 'tampered';
    const fromGet = sim.get(A);
    if (fromGet) fromGet.status = 'tampered';
    expect(items(await list(sim, [A]))[0]?.['status']).toBe('pending');
  });

  it('discovery (no ids) lists everything newest first, capped at 1000', async () => {
    let t = Date.UTC(2026, 0, 1);
    const sim = await startSim({ now: () => t });
    sim.set(A);
    t += 1000;
    sim.set(B);
    t += 1000;
    sim.set(C);
    expect(items(await list(sim)).map((o) => o['id'])).toEqual([C, B, A]);

    for (let i = 0; i < 1005; i++) sim.set(uuid(i));
    const all = items(await list(sim));
    expect(all).toHaveLength(1000);
    expect(all[0]?.['id']).toBe(uuid(1004));
  });

  it('rejects more than 100 ids, an empty list and non-UUID entries with 400 JSON detail', async () => {
    const sim = await startSim();
    sim.set(A);
    const hundred = Array.from({ length: 100 }, (_, i) => uuid(i));
    expect((await list(sim, hundred)).status).toBe(200);

    for (const bad of [[...hundred, uuid(100)], '', [A, 'not-a-uuid'], [A, ''], `${A.slice(0, -1)}`]) {
      const reply = await list(sim, bad);
      expect(reply.status).toBe(400);
      expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
      expect(typeof (reply.json as { detail?: unknown }).detail).toBe('string');
    }
  });

  it('answers 404 on other paths and 405 on non-GET', async () => {
    const sim = await startSim();
    expect((await fetch(`${sim.baseUrl}/api/lipsyncs/`)).status).toBe(404);
    expect((await fetch(`${sim.baseUrl}/api/lipsyncs_v2/x/`)).status).toBe(404);
    const post = await fetch(`${sim.baseUrl}/api/lipsyncs_v2/`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });

  it('requires matching X-API-ID and X-API-KEY when configured', async () => {
    const sim = await startSim({ apiId: 'id1', apiKey: 'key1' });
    sim.set(A);
    const none = await list(sim, [A]);
    expect(none.status).toBe(401);
    expect(none.json).toHaveProperty('detail');
    expect((await list(sim, [A], { headers: { 'X-API-ID': 'id1', 'X-API-KEY': 'wrong' } })).status).toBe(401);
    expect((await list(sim, [A], { headers: { 'X-API-ID': 'id1' } })).status).toBe(401);
    const ok = await list(sim, [A], { headers: { 'X-API-ID': 'id1', 'X-API-KEY': 'key1' } });
    expect(items(ok)).toHaveLength(1);
  });

  it('serves enqueued responses FIFO, then normal behaviour', async () => {
    const sim = await startSim();
    sim.set(A);
    sim.enqueueResponse({ status: 429, headers: { 'retry-after': '3' }, body: '{"detail":"slow down"}' });
    sim.enqueueResponse({ status: 500, headers: { 'content-type': 'text/plain' }, body: 'boom' });
    sim.enqueueResponse({ status: 200, body: 'not json' });
    sim.enqueueResponse({ status: 200, body: '{"results":[]}' });

    const r1 = await list(sim, [A]);
    expect(r1.status).toBe(429);
    expect(r1.headers.get('retry-after')).toBe('3');
    expect(r1.json).toEqual({ detail: 'slow down' });
    const r2 = await list(sim, [A]);
    expect([r2.status, r2.text, r2.headers.get('content-type')]).toEqual([500, 'boom', 'text/plain']);
    const r3 = await list(sim, [A]);
    expect([r3.status, r3.json]).toEqual([200, undefined]);
    const r4 = await list(sim, [A]);
    expect(r4.json).toEqual({ results: [] });
    expect(items(await list(sim, [A])).map((o) => o['id'])).toEqual([A]);
    expect(sim.requests.map((r) => r.status)).toEqual([429, 500, 200, 200, 200]);
  });

  it('setMalformed makes exactly that item fail lipsyncSchema while the others pass', async () => {
    const sim = await startSim();
    sim.set(A);
    sim.set(B);
    sim.set(C);
    sim.setMalformed(B, (o) => {
      o['aspect_ratio'] = 'bogus';
    });
    const got = items(await list(sim, [A, B, C]));
    expect(got).toHaveLength(3);
    for (const o of got) expect(lipsyncSchema.safeParse(o).success).toBe(o['id'] !== B);
    const parsed = parseListResponse(got);
    if ('error' in parsed) throw new Error(parsed.error);
    // The daemon reads only id/status/progress/failed_reason/updated_at: a bogus aspect ratio passes through.
    expect(parsed.items.map((i) => i.id).sort()).toEqual([A, B, C].map((id) => id.toLowerCase()).sort());
    // Stored state is untouched: get() still returns a valid object.
    expect(sim.get(B)?.aspect_ratio).toBe('16x9');
  });

  it('malformedRate 1 breaks every item; 0 breaks none', async () => {
    const broken = await startSim({ malformedRate: 1, seed: 3 });
    const ids = broken.addRandom(20);
    for (const o of items(await list(broken, ids))) expect(lipsyncSchema.safeParse(o).success).toBe(false);
    const fine = await startSim({ seed: 3 });
    const ids2 = fine.addRandom(20);
    for (const o of items(await list(fine, ids2))) expect(lipsyncSchema.safeParse(o).success).toBe(true);
  });

  it('errorRate 1 answers 500 with a non-JSON body', async () => {
    const sim = await startSim({ errorRate: 1 });
    sim.set(A);
    const reply = await list(sim, [A]);
    expect(reply.status).toBe(500);
    expect(reply.json).toBeUndefined();
  });

  it('rateLimitPerSecond answers 429 with Retry-After: 1 beyond the limit in a 1 s window', async () => {
    let t = 1_000_000;
    const sim = await startSim({ rateLimitPerSecond: 3, now: () => t });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await list(sim, [A])).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const limited = await list(sim, [A]);
    expect(limited.headers.get('retry-after')).toBe('1');
    t += 1001;
    expect((await list(sim, [A])).status).toBe(200);
  });

  it('latencyMs delays answers', async () => {
    const sim = await startSim({ latencyMs: 150 });
    const t0 = performance.now();
    await list(sim, [A]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('random timelines advance to a terminal status with valid objects and non-decreasing progress', async () => {
    let t = Date.UTC(2026, 0, 1);
    const sim = await startSim({ stepMs: 20, seed: 2024, now: () => t });
    const ids = sim.addRandom(30);
    expect(new Set(ids).size).toBe(30);
    const lastProgress = new Map<string, number>();
    let terminal = 0;
    // The longest timeline has 1 + 2 + 9 + 1 steps of 20 ms plus an offset below one step: 300 ms covers it.
    for (let step = 0; step <= 15; step++, t += 20) {
      const got = items(await list(sim, ids));
      expect(got).toHaveLength(30);
      for (const o of got) {
        expect(lipsyncSchema.safeParse(o).success).toBe(true);
        const p = Number(o['progress']);
        expect(p).toBeGreaterThanOrEqual(lastProgress.get(String(o['id'])) ?? 0);
        lastProgress.set(String(o['id']), p);
      }
      terminal = got.filter((o) => o['status'] === 'done' || o['status'] === 'failed').length;
    }
    expect(terminal).toBe(30);
    const done = ids.map((id) => sim.get(id)).filter((o) => o?.status === 'done');
    for (const o of done) expect(o?.progress).toBe('1');
  });

  it('the same seed makes addRandom deterministic; another seed differs', async () => {
    const frozen = () => Date.UTC(2026, 0, 1);
    const a = await startSim({ seed: 42, now: frozen, errorRate: 0.5 });
    const b = await startSim({ seed: 42, now: frozen, errorRate: 0.5 });
    const c = await startSim({ seed: 43, now: frozen, errorRate: 0.5 });
    // Traffic (which draws for errorRate) on one simulator must not shift the data its seed produces.
    for (let i = 0; i < 5; i++) await list(a);
    const idsA = a.addRandom(10);
    const idsB = b.addRandom(10);
    expect(idsA).toEqual(idsB);
    expect(idsA.map((id) => a.get(id))).toEqual(idsB.map((id) => b.get(id)));
    expect(c.addRandom(10)).not.toEqual(idsA);
  });

  it('autoCreate gives unknown ids a random timeline; off by default they are absent', async () => {
    const off = await startSim();
    expect(items(await list(off, [A]))).toEqual([]);
    expect(off.get(A)).toBeUndefined();
    const on = await startSim({ autoCreate: true, stepMs: 10_000 });
    const got = items(await list(on, [A, B]));
    expect(got.map((o) => o['id']).sort()).toEqual([B, A].sort());
    for (const o of got) {
      expect(lipsyncSchema.safeParse(o).success).toBe(true);
      expect(o['status']).toBe('pending');
    }
    expect(on.get(A)).toBeDefined();
  });

  it('records every list request in order with ids, status and headers; reset clears', async () => {
    const sim = await startSim();
    const before = Date.now();
    await list(sim, [A, B], { headers: { 'X-API-ID': 'me' } });
    await list(sim);
    await list(sim, 'zzz');
    await fetch(`${sim.baseUrl}/elsewhere`);
    expect(sim.requests).toHaveLength(3);
    expect(sim.requests.map((r) => [r.ids, r.status])).toEqual([
      [[A, B], 200],
      [null, 200],
      [['zzz'], 400],
    ]);
    expect(sim.requests[0]?.headers['x-api-id']).toBe('me');
    expect(sim.requests[0]?.at).toBeGreaterThanOrEqual(before);

    const held = sim.requests;
    sim.set(A);
    sim.enqueueResponse({ status: 500 });
    sim.reset();
    expect(held).toHaveLength(0);
    expect(sim.get(A)).toBeUndefined();
    expect((await list(sim, [A])).status).toBe(200);
  });

  /** How long stop() takes, giving up at 2 s so a hang fails fast instead of hitting the test timeout. */
  async function timeStop(sim: CreatifySimulator): Promise<number> {
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 2000);
    });
    await Promise.race([sim.stop(), hung]);
    clearTimeout(timer);
    return performance.now() - t0;
  }

  it('stop() resolves promptly with keep-alive clients connected, idle or mid-request', async () => {
    const sim = await startSim();
    const agent = new http.Agent({ keepAlive: true });
    const { port } = new URL(sim.baseUrl);
    const raw = net.connect(Number(port), '127.0.0.1');
    raw.on('error', () => undefined);
    const connected = new Promise<void>((resolve) => raw.once('connect', () => resolve()));
    try {
      await new Promise<void>((resolve, reject) => {
        http
          .get(`${sim.baseUrl}/api/lipsyncs_v2/?ids=${A}`, { agent }, (res) => {
            res.resume();
            res.on('end', () => resolve());
          })
          .on('error', reject);
      });
      // An idle pooled socket (Node's close() handles those itself) ...
      expect(Object.values(agent.freeSockets).flat().length).toBe(1);
      // ... and one stuck in an unfinished request, which close() alone would wait on.
      await connected;
      raw.write('GET /api/lipsyncs_v2/ HTTP/1.1\r\nHost: x\r\n');
      await new Promise((r) => setTimeout(r, 50));
      expect(await timeStop(sim)).toBeLessThan(1000);
    } finally {
      agent.destroy();
      raw.destroy();
    }
  });

  it('stop() also cuts requests still waiting on latency', async () => {
    const sim = await startSim({ latencyMs: 10_000 });
    const pending = list(sim, [A]).then(
      () => 'answered',
      () => 'cut',
    );
    // Recorded on arrival, before the latency wait: the request is now held by the server.
    await waitUntil(() => sim.requests.length === 1, 'the request to arrive', 5000);
    expect(await timeStop(sim)).toBeLessThan(1000);
    expect(await pending).toBe('cut');
  });
});

describe('CreatifySimulator drift', () => {
  it('each answer fault at rate 1 replaces every answer, after validation', async () => {
    const expected = {
      truncatedJson: (r: Reply) => r.status === 200 && r.json === undefined && r.text.startsWith('['),
      badGateway: (r: Reply) => r.status === 502 && /^text\/html/.test(r.headers.get('content-type') ?? ''),
      emptyArray: (r: Reply) => r.status === 200 && Array.isArray(r.json) && (r.json as unknown[]).length === 0,
      rateLimited: (r: Reply) => r.status === 429 && r.headers.get('retry-after') === '4',
      rateLimitedNoRetryAfter: (r: Reply) => r.status === 429 && r.headers.get('retry-after') === null,
    };
    for (const [fault, check] of Object.entries(expected)) {
      const sim = await startSim({ seed: 1, retryAfterSeconds: 4, drift: { [fault]: 1 } });
      sim.set(A);
      expect([fault, check(await list(sim, [A]))]).toEqual([fault, true]);
      expect([fault, check(await list(sim))]).toEqual([fault, true]);
      expect((await list(sim, 'not-a-uuid')).status).toBe(400);
    }
  });

  it('item faults hit the served copy only; forceFault hits one id on every answer', async () => {
    const sim = await startSim({ seed: 1, drift: { progressNumber: 1, nullMedia: 1, fractionalCredits: 1 } });
    sim.set(A, { status: 'running', progress: '0.4', credits_used: 1 });
    const [served] = items(await list(sim, [A]));
    expect(served).toMatchObject({ id: A, progress: 0.4, video_thumbnail: null, duration: null, credits_used: 1.5 });
    expect(sim.get(A)).toMatchObject({ progress: '0.4', credits_used: 1, duration: 10 });

    const one = await startSim({ seed: 1 });
    one.set(A, { status: 'running', progress: '0.6' });
    one.set(B, { status: 'running', progress: '0.6' });
    one.forceFault(A, 'missingStatus');
    one.forceFault(B, 'progressBack');
    for (let i = 0; i < 3; i++) {
      const byId = new Map(items(await list(one, [A, B])).map((o) => [o['id'], o]));
      expect('status' in (byId.get(A) ?? {})).toBe(false);
      expect(byId.get(B)?.['progress']).toBe('0.5');
    }
  });

  it('list faults: an item twice, or an id not asked for', async () => {
    const dup = await startSim({ seed: 1, drift: { duplicateItem: 1 } });
    dup.set(A);
    dup.set(B);
    const twice = items(await list(dup, [A, B])).map((o) => o['id']);
    expect(twice).toHaveLength(3);
    expect(new Set(twice)).toEqual(new Set([A, B]));

    const extra = await startSim({ seed: 1, drift: { extraId: 1 } });
    extra.set(A);
    const got = items(await list(extra, [A])).map((o) => String(o['id']));
    expect(got).toHaveLength(2);
    expect(got[0]).toBe(A);
    expect(got[1]).not.toBe(A);
  });

  it('requeue sends a timeline back to in_queue once; the choice is per id and seed', async () => {
    let t = Date.UTC(2026, 0, 1);
    const sim = await startSim({ seed: 5, stepMs: 10, now: () => t, drift: { requeue: 1 } });
    const [id] = sim.addRandom(1);
    const seen: string[] = [];
    for (let step = 0; step <= 20; step++, t += 10) {
      const status = String(sim.get(id ?? '')?.status);
      if (seen.at(-1) !== status) seen.push(status);
    }
    expect(seen.slice(0, 5)).toEqual(['pending', 'in_queue', 'running', 'in_queue', 'running']);
    expect(['done', 'failed']).toContain(seen.at(-1));
  });

  it('the same seed and the same requests give the same faulty answers', async () => {
    const drift = { duplicateItem: 0.3, extraId: 0.3, progressNumber: 0.3, badGateway: 0.2, truncatedJson: 0.2 };
    const run = async (seed: number): Promise<string[]> => {
      const frozen = Date.UTC(2026, 0, 1);
      const sim = await startSim({ seed, drift, now: () => frozen });
      const ids = sim.addRandom(10);
      const bodies: string[] = [];
      for (let i = 0; i < 20; i++) bodies.push(`${(await list(sim, ids)).status} ${(await list(sim, ids)).text}`);
      return bodies;
    };
    const first = await run(77);
    expect(await run(77)).toEqual(first);
    expect(await run(78)).not.toEqual(first);
  });

  it('setDrift turns faults on and off while running; bad knobs fail at construction', async () => {
    const sim = await startSim({ seed: 1 });
    sim.set(A);
    sim.setDrift({ badGateway: 1 });
    expect((await list(sim, [A])).status).toBe(502);
    sim.setDrift({});
    expect((await list(sim, [A])).status).toBe(200);
    expect(() => new CreatifySimulator({ drift: { emptyArray: 2 } })).toThrow(/drift\.emptyArray/);
  });
});
