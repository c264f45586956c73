import http from 'node:http';
import https from 'node:https';
import got, { HTTPError, RequestError, type Got, type Response } from 'got';
import { LsyncError, messageOf } from '../errors.js';
import { parseRetryAfter } from '../shared/retry-after.js';
import { buildIdsQuery, LIST_PATH } from './ids.js';
import { parseListResponse, type ParsedList } from './schema.js';

export interface CreatifyClientOptions {
  baseUrl: string;
  apiId?: string;
  apiKey?: string;
  timeoutMs: number;
  /** Retries inside one call on 5xx and network errors, with exponential backoff. 429 is never retried here. */
  retries: number;
  userAgent?: string;
  /** Answers larger than this (declared or received) are cut off and refused: a runaway upstream cannot exhaust memory. */
  maxResponseBytes: number;
  /** Called once per HTTP attempt: `code` is the status, or `timeout` / `network`. Feeds metrics. */
  onAttempt?: (code: string, seconds: number) => void;
  /** Called once per answer refused for its size. Feeds metrics. */
  onTooLarge?: (bytes: number) => void;
}

const RETRY_STATUS = [500, 502, 503, 504, 520, 521, 522, 524];

/**
 * Thin typed wrapper around the list endpoint. Throws only LsyncError. Never holds more than
 * `maxResponseBytes` (plus one socket chunk) of an answer: a larger one is cancelled as soon as it is seen.
 */
export class CreatifyClient {
  readonly #got: Got;
  readonly #agents = { http: new http.Agent({ keepAlive: true, maxSockets: 32 }), https: new https.Agent({ keepAlive: true, maxSockets: 32 }) };
  readonly #onAttempt: CreatifyClientOptions['onAttempt'];
  readonly #onTooLarge: CreatifyClientOptions['onTooLarge'];
  readonly #maxResponseBytes: number;

  constructor(options: CreatifyClientOptions) {
    this.#onAttempt = options.onAttempt;
    this.#onTooLarge = options.onTooLarge;
    this.#maxResponseBytes = options.maxResponseBytes;
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': options.userAgent ?? 'lipsync-sync' };
    if (options.apiId !== undefined) headers['x-api-id'] = options.apiId;
    if (options.apiKey !== undefined) headers['x-api-key'] = options.apiKey;
    this.#got = got.extend({
      prefixUrl: options.baseUrl.replace(/\/+$/, ''),
      headers,
      agent: this.#agents,
      timeout: { request: options.timeoutMs },
      responseType: 'text',
      followRedirect: false,
      retry: {
        limit: options.retries,
        methods: ['GET'],
        statusCodes: RETRY_STATUS,
        // Exponential with full jitter, capped: a flapping upstream is not hammered in lockstep by replicas.
        calculateDelay: ({ attemptCount, computedValue }) => (computedValue === 0 ? 0 : Math.min(4000, 250 * 2 ** (attemptCount - 1)) * (0.5 + Math.random() / 2)),
      },
      hooks: {
        afterResponse: [
          (response: Response) => {
            this.#record(String(response.statusCode), response.timings.phases.total);
            return response;
          },
        ],
        beforeRetry: [(error: RequestError) => this.#recordNetwork(error)],
      },
    });
  }

  /** One request for 1..100 ids. Malformed items come back in `malformed`, never as a thrown error. */
  async list(ids: readonly string[]): Promise<ParsedList> {
    const query = buildIdsQuery(ids);
    return this.#get(new URLSearchParams({ ids: query }));
  }

  /** The account listing without `ids` (discovery). */
  async listAll(): Promise<ParsedList> {
    return this.#get(undefined);
  }

  close(): void {
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }

  async #get(searchParams: URLSearchParams | undefined): Promise<ParsedList> {
    let body: string;
    let tooLarge: number | null = null;
    const request = this.#got.get(LIST_PATH.slice(1), searchParams === undefined ? {} : { searchParams });
    // `total` is the declared Content-Length (known before any byte arrives); `transferred` covers chunked answers.
    request.on('downloadProgress', ({ transferred, total }: { transferred: number; total?: number }) => {
      const size = Math.max(transferred, total ?? 0);
      if (size <= this.#maxResponseBytes || tooLarge !== null) return;
      tooLarge = size;
      request.cancel();
    });
    try {
      body = await request.text();
    } catch (err) {
      if (tooLarge !== null) throw this.#refuseTooLarge(tooLarge);
      throw this.#translate(err);
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new LsyncError('LSYNC_ERR_UPSTREAM_RESPONSE', `Creatify answered with a body that is not JSON (${body.length} bytes, starts ${JSON.stringify(body.slice(0, 40))})`);
    }
    const parsed = parseListResponse(json);
    if ('error' in parsed) throw new LsyncError('LSYNC_ERR_UPSTREAM_RESPONSE', `Creatify list answer: ${parsed.error}`);
    return parsed;
  }

  #refuseTooLarge(bytes: number): LsyncError {
    this.#onTooLarge?.(bytes);
    return new LsyncError(
      'LSYNC_ERR_UPSTREAM_TOO_LARGE',
      `Creatify answer refused: at least ${bytes} bytes, over creatify.maxResponseBytes (${this.#maxResponseBytes}); raise it if such answers are expected`,
      { field: 'creatify.maxResponseBytes', context: { bytes } },
    );
  }

  #translate(err: unknown): LsyncError {
    if (err instanceof HTTPError) {
      const status = err.response.statusCode;
      if (status === 429) {
        return new LsyncError('LSYNC_ERR_RATE_LIMITED', 'Creatify answered 429 Too Many Requests', {
          // Without a usable Retry-After, pause 1 s: polite, and never stuck.
          context: { retryAfterMs: parseRetryAfter(err.response.headers['retry-after']) ?? 1000 },
        });
      }
      const hint = status === 401 || status === 403 ? '; check CREATIFY_API_ID and CREATIFY_API_KEY' : '';
      return new LsyncError('LSYNC_ERR_UPSTREAM', `Creatify answered HTTP ${status}${hint}`, { context: { status } });
    }
    if (err instanceof RequestError) {
      // The last attempt's network failure has not passed through beforeRetry.
      this.#recordNetwork(err);
      return new LsyncError('LSYNC_ERR_UPSTREAM', `Creatify request failed: ${err.code === 'ETIMEDOUT' ? 'timeout' : err.code}`, { context: { code: err.code } });
    }
    return new LsyncError('LSYNC_ERR_UPSTREAM', `Creatify request failed: ${messageOf(err)}`);
  }

  #recordNetwork(error: RequestError): void {
    if (error.response !== undefined) return; // already counted by afterResponse
    this.#record(error.code === 'ETIMEDOUT' ? 'timeout' : 'network', error.timings?.phases.total);
  }

  #record(code: string, totalMs: number | undefined): void {
    this.#onAttempt?.(code, (totalMs ?? 0) / 1000);
  }
}
