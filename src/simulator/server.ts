/**
 * A local stand-in for Creatify's `GET /api/lipsyncs_v2/` (../../../shared/creatify-lipsyncs-v2-list-endpoint.txt),
 * served over real HTTP so the daemon's client, retries and validation are exercised end to end.
 * Used by tests (scripted state, forced answers, malformed items), the chaos suite (upstream drift) and the
 * `demo` command (random timelines). This file is the HTTP front; each concept has its own module: the
 * lipsyncs (./store.ts), request recording (./recorder.ts), auth (./auth.ts), the rate limit
 * (./rate-window.ts), the faults (./faults.ts) and which one fires when (./injector.ts).
 *
 * Knobs (SimulatorOptions), all off by default:
 * - `apiId` + `apiKey`: 401 without matching X-API-ID / X-API-KEY.
 * - `rateLimitPerSecond`: 429 with `Retry-After: 1` beyond that many requests in a sliding 1 s window.
 * - `latencyMs`: every answer waits this long (real timers; stop() cuts waiting requests).
 * - `errorRate`: fraction of answers replaced by Django's HTML 500.
 * - `malformedRate`: fraction of items broken against the documented schema; `setMalformed(id, fn)` per id.
 * - `drift`: upstream drift, a fraction 0..1 per fault (also `setDrift(rates)` at run time, and
 *   `forceFault(id, fault)` to hit one id on every answer):
 *   - items: `progressNumber` (progress 0.4, a number), `nullMedia` (video_thumbnail and duration null),
 *     `fractionalCredits` (credits_used 1.5), `progressBack` (progress lower than the truth, same
 *     updated_at), `missingStatus` (no status field);
 *   - lists: `duplicateItem` (one item twice in an answer), `extraId` (an id not asked for);
 *   - answers, at most one per answer (their rates sum to ≤ 1): `truncatedJson` (a 200 cut mid-body),
 *     `badGateway` (nginx's HTML 502), `emptyArray` (`[]`), `rateLimited` (429 with Retry-After:
 *     `retryAfterSeconds`, default 1), `rateLimitedNoRetryAfter` (429 without it);
 *   - timelines: `requeue` (running → in_queue → running → done; chosen per id at creation).
 * - `enqueueResponse(r)`: the next answers, FIFO, whatever else is configured.
 * - `seed`: ids, timelines and every rate-driven fault are deterministic given the seed and the requests.
 * - `now`: the clock for timelines, timestamps and the rate window, so tests move time without waiting.
 * Precedence per request: method, forced response, auth, rate window, errorRate, validation (400), drift.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LIST_PATH, MAX_IDS_PER_REQUEST } from '../creatify/ids.js';
import type { Lipsync } from '../creatify/schema.js';
import { messageOf } from '../errors.js';
import { detail, jsonArray, type Answer } from './answers.js';
import { checkAuth, type Credentials } from './auth.js';
import { ANSWER_FAULTS, LIST_FAULTS, requeueSteps, type ItemFault, type Mutation } from './faults.js';
import { FaultInjector, type DriftRates, type ForcedResponse } from './injector.js';
import { RateWindow } from './rate-window.js';
import { RequestRecorder, type RecordedRequest } from './recorder.js';
import { LipsyncStore, keyOf, type Entry } from './store.js';
import { createRng, isUuid } from './timeline.js';

export type { RecordedRequest } from './recorder.js';
export type { DriftRates, ForcedResponse } from './injector.js';

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
  /** Upstream drift: fraction 0..1 per fault (see the opening comment). */
  drift?: DriftRates;
  /** `Retry-After` seconds of the `rateLimited` drift fault. Default 1. */
  retryAfterSeconds?: number;
  seed?: number;
  autoCreate?: boolean;
  stepMs?: number;
  /** Clock for timelines, timestamps and rate limiting; default Date.now. Lets tests move time without waiting. */
  now?: () => number;
  /** Oldest entries of `requests` are dropped beyond this, so a long demo does not grow without bound. Default 10000. */
  maxRecordedRequests?: number;
}

/** Discovery (a list request without `ids`) answers at most this many, newest first. */
export const MAX_DISCOVERY = 1000;

export class CreatifySimulator {
  private readonly options: SimulatorOptions;
  private readonly now: () => number;
  private readonly store: LipsyncStore;
  private readonly faults: FaultInjector;
  private readonly recorder: RequestRecorder;
  private readonly rateWindow: RateWindow | null;
  private readonly credentials: Credentials | null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private server: http.Server | null = null;
  private url: string | null = null;

  constructor(options: SimulatorOptions = {}) {
    this.options = { ...options };
    this.now = options.now ?? Date.now;
    const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
    this.faults = new FaultInjector({
      seed,
      ...(options.errorRate === undefined ? {} : { errorRate: options.errorRate }),
      ...(options.malformedRate === undefined ? {} : { malformedRate: options.malformedRate }),
      ...(options.drift === undefined ? {} : { drift: options.drift }),
      ...(options.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: options.retryAfterSeconds }),
    });
    this.store = new LipsyncStore({
      now: this.now,
      stepMs: options.stepMs ?? 1000,
      // Separate stream from the faults' so request traffic never shifts the ids/timelines a seed produces.
      rng: createRng(seed),
      reshapeSteps: (id, steps) => (this.faults.requeues(id) ? requeueSteps(steps) : steps),
    });
    this.recorder = new RequestRecorder(options.maxRecordedRequests ?? 10_000);
    this.rateWindow = options.rateLimitPerSecond === undefined ? null : new RateWindow(options.rateLimitPerSecond);
    this.credentials = options.apiId !== undefined && options.apiKey !== undefined ? { apiId: options.apiId, apiKey: options.apiKey } : null;
  }

  /** Every list request received, oldest first (bounded by maxRecordedRequests). */
  get requests(): RecordedRequest[] {
    return this.recorder.requests;
  }

  /** Ids asked for more than once among `requests` (default: all recorded), lower-cased. */
  idsAskedTwice(requests?: readonly RecordedRequest[]): string[] {
    return this.recorder.idsAskedTwice(requests);
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
    return this.store.set(id, fields);
  }

  get(id: string): Lipsync | undefined {
    return this.store.get(id);
  }

  remove(id: string): void {
    this.store.remove(id);
    this.faults.forget(id.toLowerCase());
  }

  addRandom(count: number): string[] {
    return this.store.addRandom(count);
  }

  enqueueResponse(r: ForcedResponse): void {
    this.faults.enqueue(r);
  }

  setMalformed(id: string, mutate: Mutation): void {
    this.faults.setMalformed(keyOf(id), mutate);
  }

  /** Replaces the drift rates from now on. */
  setDrift(rates: DriftRates): void {
    this.faults.setDrift(rates);
  }

  /** `id` gets this item fault in every answer (or, for `requeue`, a requeued timeline when auto-created). */
  forceFault(id: string, fault: ItemFault | 'requeue'): void {
    this.faults.force(keyOf(id), fault);
  }

  reset(): void {
    this.store.clear();
    this.faults.reset();
    this.recorder.reset();
    this.rateWindow?.reset();
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
    const record = this.recorder.record(idsParam, req.headers, this.now());
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

  private answer(req: http.IncomingMessage, idsParam: string | null): Answer {
    if (req.method !== 'GET') return detail(405, `Method "${req.method ?? ''}" not allowed.`, { allow: 'GET' });
    const forced = this.faults.takeForced();
    if (forced !== undefined) return forced;
    const unauthorised = checkAuth(req.headers, this.credentials);
    if (unauthorised !== null) return unauthorised;
    const now = this.now();
    if (this.rateWindow !== null && !this.rateWindow.admit(now)) {
      return detail(429, 'Request was throttled. Expected available in 1 second.', { 'retry-after': '1' });
    }
    const broken = this.faults.serverError();
    if (broken !== undefined) return broken;

    let entries: () => Entry[];
    if (idsParam === null) {
      entries = () => this.store.newest(MAX_DISCOVERY);
    } else {
      if (idsParam === '') return detail(400, 'ids: Ensure this field has at least 1 characters.');
      const asked = idsParam.split(',');
      if (asked.length > MAX_IDS_PER_REQUEST) return detail(400, `Maximum ${MAX_IDS_PER_REQUEST} IDs allowed, got ${asked.length}.`);
      const bad = asked.find((id) => !isUuid(id));
      if (bad !== undefined) return detail(400, `"${bad.slice(0, 64)}" is not a valid UUID.`);
      entries = () => this.store.lookup(asked, this.options.autoCreate === true);
    }
    const normal = (): Answer => this.list(entries(), now);
    const fault = this.faults.answerFault();
    return fault === undefined ? normal() : ANSWER_FAULTS[fault]({ normal, retryAfterSeconds: this.faults.retryAfterSeconds });
  }

  /** A 200 answer of these entries, each through its item faults, then the list faults. */
  private list(entries: readonly Entry[], now: number): Answer {
    let items = entries.map((entry) => this.serve(entry, now));
    for (const fault of this.faults.listFaults()) items = LIST_FAULTS[fault](items, this.faults.rng, now);
    return jsonArray(items);
  }

  /** One entry as JSON text: the cached serialisation unless a fault applies, which damages a deep copy. */
  private serve(entry: Entry, now: number): string {
    const mutations = this.faults.itemMutations(entry.id);
    if (mutations.length === 0) return this.store.json(entry, now);
    const copy = structuredClone(this.store.render(entry, now)) as Record<string, unknown>;
    for (const mutate of mutations) mutate(copy);
    return JSON.stringify(copy);
  }

  private write(res: http.ServerResponse, answer: Answer): void {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
    res.end(answer.body);
  }
}
