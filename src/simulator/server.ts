/**
 * A local stand-in for Creatify's `GET /api/lipsyncs_v2/` (../../../shared/creatify-lipsyncs-v2-list-endpoint.txt),
 * served over real HTTP so the daemon's client, retries and validation are exercised end to end.
 * Used by tests (scripted state, forced answers, malformed items) and by the `demo` command (random timelines).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Lipsync } from '../creatify/schema.js';
import {
  createRng,
  createTimelineLipsync,
  defaultLipsync,
  isUuid,
  malformRandomly,
  randomUuidV4,
  renderTimelineLipsync,
  stepIndexAt,
  toIso,
  type Rng,
  type TimelineLipsync,
} from './timeline.js';
import { messageOf } from '../errors.js';

export interface SimulatorOptions {
  host?: string;
  port?: number;
  /** When both are set, list requests without matching X-API-ID / X-API-KEY get 401. */
  apiId?: string;
  apiKey?: string;
  latencyMs?: number;
  errorRate?: number;
  rateLimitPerSecond?: number;
  malformedRate?: number;
  seed?: number;
  autoCreate?: boolean;
  stepMs?: number;
  /** Clock for timelines, timestamps and rate limiting; default Date.now. Lets tests move time without waiting. */
  now?: () => number;
  /** Oldest entries of `requests` are dropped beyond this, so a long demo does not grow without bound. Default 10000. */
  maxRecordedRequests?: number;
}

export interface RecordedRequest {
  /** The `ids` query value split on commas as sent (not validated); null when the parameter was absent. */
  ids: string[] | null;
  at: number;
  /** The answer's status; 0 while a delayed (latencyMs) answer is still pending. */
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

export interface ForcedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export const LIST_PATH = '/api/lipsyncs_v2/';
export const MAX_IDS = 100;
export const MAX_DISCOVERY = 1000;

/** `json` caches the serialised object; valid while `jsonStep` matches (-1 for static entries, else the step index). */
type Entry = { seq: number; createdMs: number; json?: string; jsonStep?: number } & (
  | { kind: 'static'; obj: Lipsync }
  | { kind: 'timeline'; tl: TimelineLipsync }
);

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

// Django's stock 500 page: a real non-JSON error body for the daemon to cope with.
const SERVER_ERROR_HTML =
  '<!doctype html>\n<html lang="en">\n<head>\n  <title>Server Error (500)</title>\n</head>\n<body>\n' +
  '  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n';

function json(status: number, value: unknown, headers: Record<string, string> = {}): Answer {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

function jsonArray(items: string[]): Answer {
  return { status: 200, headers: { 'content-type': 'application/json' }, body: `[${items.join(',')}]` };
}

function detail(status: number, message: string, headers: Record<string, string> = {}): Answer {
  return json(status, { detail: message }, headers);
}

function checkRate(name: string, value: number | undefined): void {
  if (value !== undefined && !(value >= 0 && value <= 1)) throw new RangeError(`${name} must be within 0..1`);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export class CreatifySimulator {
  readonly requests: RecordedRequest[] = [];

  private readonly options: SimulatorOptions;
  private readonly now: () => number;
  private readonly stepMs: number;
  private readonly maxRecorded: number;
  /** Separate streams so request traffic (faults) never shifts the ids/timelines a seed produces. */
  private readonly dataRng: Rng;
  private readonly faultRng: Rng;

  private readonly entries = new Map<string, Entry>();
  private readonly malformed = new Map<string, (obj: Record<string, unknown>) => void>();
  private readonly queue: ForcedResponse[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private seq = 0;
  /** Sliding 1 s window of admitted request times; `windowHead` avoids shifting the array each request. */
  private window: number[] = [];
  private windowHead = 0;

  private server: http.Server | null = null;
  private url: string | null = null;

  constructor(options: SimulatorOptions = {}) {
    checkRate('errorRate', options.errorRate);
    checkRate('malformedRate', options.malformedRate);
    if (options.stepMs !== undefined && !(options.stepMs > 0)) throw new RangeError('stepMs must be > 0');
    if (options.rateLimitPerSecond !== undefined && !(options.rateLimitPerSecond > 0)) {
      throw new RangeError('rateLimitPerSecond must be > 0');
    }
    this.options = { ...options };
    this.now = options.now ?? Date.now;
    this.stepMs = options.stepMs ?? 1000;
    this.maxRecorded = options.maxRecordedRequests ?? 10_000;
    const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
    this.dataRng = createRng(seed);
    this.faultRng = createRng(seed ^ 0x9e3779b9);
  }

  get baseUrl(): string {
    if (this.url === null) throw new Error('CreatifySimulator is not started');
    return this.url;
  }

  async start(): Promise<string> {
    if (this.server !== null) throw new Error('CreatifySimulator is already started');
    const host = this.options.host ?? '127.0.0.1';
    const server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    this.server = server;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    this.url = null;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      // close() drops idle keep-alive sockets but waits on busy ones (unfinished or latency-delayed requests).
      server.closeAllConnections();
    });
  }

  set(id: string, fields: Partial<Lipsync> = {}): Lipsync {
    const key = this.key(id);
    const now = this.now();
    const existing = this.entries.get(key);
    const previous = existing ? this.render(existing, now) : undefined;
    // Cloned so later mutation of the caller's `fields` (or of the returned object) cannot reach stored state.
    const next: Lipsync = structuredClone({ ...(previous ?? defaultLipsync(key, now)), ...fields, id: key });
    if (fields.updated_at === undefined) {
      // Strictly increasing even for two sets within the same millisecond.
      const prevUpdated = previous ? Date.parse(previous.updated_at) : Number.NEGATIVE_INFINITY;
      next.updated_at = toIso(Math.max(now, prevUpdated + 1));
    }
    const createdMs = Date.parse(next.created_at);
    this.entries.set(key, {
      kind: 'static',
      seq: existing?.seq ?? this.seq++,
      createdMs: Number.isNaN(createdMs) ? now : createdMs,
      obj: next,
    });
    return structuredClone(next);
  }

  get(id: string): Lipsync | undefined {
    if (!isUuid(id)) return undefined;
    const entry = this.entries.get(id.toLowerCase());
    return entry ? structuredClone(this.render(entry, this.now())) : undefined;
  }

  remove(id: string): void {
    const key = id.toLowerCase();
    this.entries.delete(key);
    this.malformed.delete(key);
  }

  addRandom(count: number): string[] {
    if (!Number.isInteger(count) || count < 0) throw new RangeError('count must be a non-negative integer');
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      let id = randomUuidV4(this.dataRng);
      while (this.entries.has(id)) id = randomUuidV4(this.dataRng);
      this.addTimeline(id);
      ids.push(id);
    }
    return ids;
  }

  enqueueResponse(r: ForcedResponse): void {
    this.queue.push({ ...r, headers: r.headers ? { ...r.headers } : undefined });
  }

  setMalformed(id: string, mutate: (obj: Record<string, unknown>) => void): void {
    this.malformed.set(this.key(id), mutate);
  }

  reset(): void {
    this.entries.clear();
    this.malformed.clear();
    this.queue.length = 0;
    // In place, so callers holding `requests` see the reset.
    this.requests.length = 0;
    this.window = [];
    this.windowHead = 0;
  }

  private key(id: string): string {
    if (!isUuid(id)) throw new TypeError(`not a UUID: ${JSON.stringify(id)}`);
    return id.toLowerCase();
  }

  private addTimeline(id: string): Entry {
    const now = this.now();
    const entry: Entry = {
      kind: 'timeline',
      seq: this.seq++,
      createdMs: now,
      tl: createTimelineLipsync(this.dataRng, id, now, { stepMs: this.stepMs }),
    };
    this.entries.set(id, entry);
    return entry;
  }

  private render(entry: Entry, now: number): Lipsync {
    return entry.kind === 'static' ? entry.obj : renderTimelineLipsync(entry.tl, now);
  }

  /**
   * One entry as JSON text. Serialisation dominates the cost of an answer, so the text is cached per timeline
   * step; malformed copies are deep clones so stored state stays valid.
   */
  private serve(key: string, entry: Entry, now: number): string {
    const mutate = this.malformed.get(key);
    const rate = this.options.malformedRate ?? 0;
    const randomlyBroken = rate > 0 && this.faultRng() < rate;
    if (mutate !== undefined || randomlyBroken) {
      const copy = structuredClone(this.render(entry, now)) as Record<string, unknown>;
      if (mutate !== undefined) mutate(copy);
      else malformRandomly(this.faultRng, copy);
      return JSON.stringify(copy);
    }
    const step = entry.kind === 'static' ? -1 : stepIndexAt(entry.tl, now);
    if (entry.json === undefined || entry.jsonStep !== step) {
      entry.json = JSON.stringify(this.render(entry, now));
      entry.jsonStep = step;
    }
    return entry.json;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    req.resume(); // drain any body so keep-alive sockets stay usable
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://simulator.local');
    } catch {
      this.write(res, detail(400, 'Bad request.'));
      return;
    }
    if (url.pathname !== LIST_PATH && url.pathname !== LIST_PATH.slice(0, -1)) {
      this.write(res, detail(404, 'Not found.'));
      return;
    }
    const idsParam = url.searchParams.get('ids');
    const record: RecordedRequest = {
      ids: idsParam === null ? null : idsParam === '' ? [] : idsParam.split(','),
      at: this.now(),
      status: 0,
      headers: { ...req.headers },
    };
    this.record(record);
    const respond = (): void => {
      let answer: Answer;
      try {
        answer = this.answer(req, idsParam);
      } catch (err) {
        // A throwing setMalformed hook must not take the server down.
        answer = detail(500, `simulator error: ${messageOf(err)}`);
      }
      record.status = answer.status;
      this.write(res, answer);
    };
    const latency = this.options.latencyMs ?? 0;
    if (latency <= 0) {
      respond();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      respond();
    }, latency);
    this.timers.add(timer);
  }

  private record(record: RecordedRequest): void {
    this.requests.push(record);
    // Trim in chunks (10 % slack) so the cap costs O(1) amortised per request.
    if (this.requests.length > this.maxRecorded + Math.ceil(this.maxRecorded / 10)) {
      this.requests.splice(0, this.requests.length - this.maxRecorded);
    }
  }

  private answer(req: http.IncomingMessage, idsParam: string | null): Answer {
    if (req.method !== 'GET') return detail(405, `Method "${req.method ?? ''}" not allowed.`, { allow: 'GET' });

    const forced = this.queue.shift();
    if (forced !== undefined) {
      const body = forced.body ?? '';
      const headers = { ...forced.headers };
      const hasType = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
      if (body !== '' && !hasType) headers['content-type'] = 'application/json';
      return { status: forced.status, headers, body };
    }

    const { apiId, apiKey } = this.options;
    if (apiId !== undefined && apiKey !== undefined) {
      const gotId = headerValue(req.headers['x-api-id']);
      const gotKey = headerValue(req.headers['x-api-key']);
      if (gotId === undefined || gotKey === undefined) {
        return detail(401, 'Authentication credentials were not provided.');
      }
      if (gotId !== apiId || gotKey !== apiKey) return detail(401, 'Invalid API credentials.');
    }

    const now = this.now();
    if (this.rateLimited(now)) {
      return detail(429, 'Request was throttled. Expected available in 1 second.', { 'retry-after': '1' });
    }

    const errorRate = this.options.errorRate ?? 0;
    if (errorRate > 0 && this.faultRng() < errorRate) {
      return { status: 500, headers: { 'content-type': 'text/html; charset=utf-8' }, body: SERVER_ERROR_HTML };
    }

    if (idsParam === null) return this.discovery(now);

    if (idsParam === '') return detail(400, 'ids: Ensure this field has at least 1 characters.');
    const asked = idsParam.split(',');
    if (asked.length > MAX_IDS) return detail(400, `Maximum ${MAX_IDS} IDs allowed, got ${asked.length}.`);
    const bad = asked.find((id) => !isUuid(id));
    if (bad !== undefined) return detail(400, `"${bad.slice(0, 64)}" is not a valid UUID.`);

    const found: Array<{ key: string; entry: Entry }> = [];
    for (const key of new Set(asked.map((id) => id.toLowerCase()))) {
      let entry = this.entries.get(key);
      if (entry === undefined && this.options.autoCreate === true) entry = this.addTimeline(key);
      if (entry !== undefined) found.push({ key, entry });
    }
    found.sort((a, b) => b.entry.createdMs - a.entry.createdMs || b.entry.seq - a.entry.seq);
    return jsonArray(found.map(({ key, entry }) => this.serve(key, entry, now)));
  }

  /** Newest first, at most MAX_DISCOVERY. Sorting every call is fine: discovery is not the hot path. */
  private discovery(now: number): Answer {
    const all = [...this.entries];
    all.sort(([, a], [, b]) => b.createdMs - a.createdMs || b.seq - a.seq);
    return jsonArray(all.slice(0, MAX_DISCOVERY).map(([key, entry]) => this.serve(key, entry, now)));
  }

  private rateLimited(now: number): boolean {
    const limit = this.options.rateLimitPerSecond;
    if (limit === undefined) return false;
    while (this.windowHead < this.window.length && (this.window[this.windowHead] ?? now) <= now - 1000) {
      this.windowHead++;
    }
    if (this.windowHead > 1024 && this.windowHead * 2 > this.window.length) {
      this.window = this.window.slice(this.windowHead);
      this.windowHead = 0;
    }
    if (this.window.length - this.windowHead >= limit) return true;
    this.window.push(now);
    return false;
  }

  private write(res: http.ServerResponse, answer: Answer): void {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
    res.end(answer.body);
  }
}
