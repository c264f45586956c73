/**
 * The upstream the daemons under test talk to: a thin HTTP proxy in front of the Creatify simulator that
 * knows which replica sent each list request (its X-API-ID), can hold a request while that replica is
 * killed, puts the simulator's drift faults into answers (./faults.ts decides which, when), and logs what
 * each replica actually received. Every request reaches the simulator, so its request log is complete too.
 * Invariant: `log` records an id as answered only when a readable, current item for it was written completely
 * to the replica, so poll gaps measured from it are gaps the daemon really saw.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRng, type Rng } from '../../src/simulator/timeline.js';
import type { Answer } from '../../src/simulator/answers.js';
import { FaultPlan, rewriteAnswer, type FaultKind, type Item } from './faults.js';
import type { PollRecord } from './verdict.js';

export interface UpstreamRecord extends PollRecord {
  replica: string;
  asked: number;
  status: number;
  fault: FaultKind | null;
}

export interface UpstreamOptions {
  target: string;
  seed: number;
  /** Chance that one list request carries a fault. */
  faultRate: number;
  /** An older copy counts as stale only once a newer one reached a replica this long ago (time to apply it). */
  staleAfterMs?: number;
}

interface Version {
  updatedAt: number;
  item: Item;
  servedAt: number;
}

const MAX_VERSIONS = 4;

export class Upstream {
  readonly log: UpstreamRecord[] = [];
  readonly injected = new Map<FaultKind, number>();
  readonly #options: UpstreamOptions;
  readonly #rng: Rng;
  readonly #faults: FaultPlan;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  readonly #versions = new Map<string, Version[]>();
  #onNextRequest: ((replica: string) => Promise<void>) | null = null;
  #server: http.Server | null = null;

  constructor(options: UpstreamOptions) {
    this.#options = options;
    this.#rng = createRng(options.seed);
    this.#faults = new FaultPlan(this.#rng, options.faultRate);
  }

  async start(): Promise<string> {
    const server = http.createServer((req, res) => {
      void this.#handle(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.#server = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#agent.destroy();
    const server = this.#server;
    this.#server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The next list request (from any replica) waits for `hook(replica)` before it is answered. */
  holdNextRequest(hook: (replica: string) => Promise<void>): void {
    this.#onNextRequest = hook;
  }

  get holding(): boolean {
    return this.#onNextRequest !== null;
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    req.resume();
    const at = Date.now();
    const replica = String(req.headers['x-api-id'] ?? '?');
    const ids = new URL(req.url ?? '/', 'http://upstream.local').searchParams.get('ids');
    const record: UpstreamRecord = { at, replica, asked: ids === null ? 0 : ids.split(',').length, answered: [], status: 0, fault: null };
    this.log.push(record);
    const hook = this.#onNextRequest;
    if (hook !== null) {
      // The replica that sent it dies while its request is in flight: it never gets an answer.
      this.#onNextRequest = null;
      await hook(replica);
      record.status = -1;
      res.destroy();
      return;
    }
    const fault = this.#faults.next();
    const upstream = await this.#forward(req);
    if (upstream.status !== 200) {
      this.#send(res, record, upstream, []);
      return;
    }
    const items = JSON.parse(upstream.body) as Item[];
    const now = Date.now();
    const rewritten = fault === null ? null : rewriteAnswer(fault, upstream, this.#rng, now, (id) => this.#older(id, now));
    if (fault !== null && rewritten !== null && rewritten.count > 0) {
      this.#count(fault, rewritten.count);
      record.fault = fault;
    }
    const answered = rewritten?.answered ?? items.map((i) => String(i['id']).toLowerCase());
    this.#send(res, record, rewritten?.answer ?? upstream, answered, items.filter((i) => answered.includes(String(i['id']).toLowerCase())), now);
  }

  #count(kind: FaultKind, n: number): void {
    this.injected.set(kind, (this.injected.get(kind) ?? 0) + n);
  }

  /** An item older than one that reached a replica at least staleAfterMs ago, so it is older than the stored state. */
  #older(id: string, now: number): Item | undefined {
    const versions = this.#versions.get(id) ?? [];
    const applied = versions.filter((v) => now - v.servedAt >= (this.#options.staleAfterMs ?? 2000));
    const newest = applied[applied.length - 1];
    if (newest === undefined) return undefined;
    return versions.find((v) => v.updatedAt < newest.updatedAt)?.item;
  }

  #remember(items: readonly Item[], servedAt: number): void {
    for (const item of items) {
      const id = String(item['id']).toLowerCase();
      const updatedAt = Date.parse(String(item['updated_at']));
      const versions = this.#versions.get(id) ?? [];
      const last = versions[versions.length - 1];
      if (last !== undefined && last.updatedAt >= updatedAt) continue;
      versions.push({ updatedAt, item: structuredClone(item), servedAt });
      if (versions.length > MAX_VERSIONS) versions.shift();
      this.#versions.set(id, versions);
    }
  }

  #send(res: http.ServerResponse, record: UpstreamRecord, answer: Answer, answered: string[], served: readonly Item[] = [], now = Date.now()): void {
    const { status, headers, body } = answer;
    record.status = status;
    if (res.destroyed) return;
    res.on('finish', () => {
      record.answered = answered;
      this.#remember(served, now);
    });
    res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  #forward(req: http.IncomingMessage): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const out = http.get(`${this.#options.target}${req.url ?? '/'}`, { agent: this.#agent, headers: { accept: 'application/json' } }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          const type = answer.headers['content-type'];
          resolve({ status: answer.statusCode ?? 0, headers: type === undefined ? {} : { 'content-type': type }, body: Buffer.concat(chunks).toString('utf8') });
        });
        answer.on('error', reject);
      });
      out.on('error', reject);
    });
  }
}
