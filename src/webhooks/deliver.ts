import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import got from 'got';
import { LsyncError } from '../errors.js';
import { parseRetryAfter } from '../shared/retry-after.js';
import { signatureHeaders } from './sign.js';

export interface WebhookEndpoint {
  name: string;
  url: string;
  /** `whsec_<base64>`. */
  secret: string;
  /** Event types to send; all when absent. */
  events?: string[];
  /** Whole-request timeout, ms; default 15000. */
  timeoutMs?: number;
  maxAttempts?: number;
}

export type DeliveryOutcome = 'delivered' | 'retry' | 'gone';

export interface DeliveryResult {
  outcome: DeliveryOutcome;
  /** `null` when no response arrived (timeout, connection error). */
  statusCode: number | null;
  /** `HTTP 503`, `timeout after 15000 ms`, `ECONNREFUSED`, …; `null` when delivered. */
  error: string | null;
  /** From `Retry-After` on a failed answer, capped at 1 h. */
  retryAfterMs: number | null;
  durationMs: number;
  /** At most `maxResponseBytes` of the answer, for logs and dead letters. */
  responseBody: string;
}

export interface DelivererOptions {
  /** Default `lipsync-sync/<package version>`. */
  userAgent?: string;
  /** Bytes of the response body kept; the rest is never read. Default 4096. */
  maxResponseBytes?: number;
  /** Clock for `webhook-timestamp`, unix ms. */
  now?: () => number;
}

export interface Deliverer {
  /** One attempt. Resolves for every network or HTTP problem; throws only for an invalid endpoint (config error). */
  deliver(endpoint: WebhookEndpoint, eventId: string, body: string): Promise<DeliveryResult>;
  /** Destroys the keep-alive sockets. */
  close(): void;
}

const DEFAULTS = {
  timeoutMs: 15 * 1000,
  maxResponseBytes: 4096,
} as const;

let cachedVersion: string | undefined;
function packageVersion(): string {
  if (cachedVersion === undefined) {
    try {
      // src/webhooks and dist/webhooks are both two levels below package.json.
      const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
      const version = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? pkg.version : undefined;
      cachedVersion = typeof version === 'string' ? version : 'unknown';
    } catch {
      cachedVersion = 'unknown';
    }
  }
  return cachedVersion;
}

/** Why `url` cannot be a webhook endpoint, or `null` when it can. */
export function validateEndpointUrl(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'expected an absolute http:// or https:// URL, got a value that does not parse as a URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `expected an http:// or https:// URL, got scheme "${parsed.protocol.slice(0, -1)}"`;
  }
  if (parsed.hostname === '') return 'expected a URL with a host';
  return null;
}

/** Replaces the secret (whole, or just its base64 part) wherever it appears. */
function redact(text: string, secret: string): string {
  let out = text;
  for (const needle of [secret, secret.replace(/^whsec_/, '')]) {
    if (needle.length >= 8) out = out.split(needle).join('[redacted]');
  }
  return out;
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

function describeError(err: unknown, timeoutMs: number): string {
  const code = errorCode(err);
  if (code === 'ETIMEDOUT' || (err instanceof Error && err.name === 'TimeoutError')) return `timeout after ${timeoutMs} ms`;
  if (code !== undefined && code !== 'ERR_GOT_REQUEST_ERROR') return code;
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

interface RawAttempt {
  statusCode: number | null;
  retryAfter: string | string[] | undefined;
  body: Buffer;
  error: unknown;
}

export function createDeliverer(options: DelivererOptions = {}): Deliverer {
  const userAgent = options.userAgent ?? `lipsync-sync/${packageVersion()}`;
  const maxResponseBytes = Math.max(0, options.maxResponseBytes ?? DEFAULTS.maxResponseBytes);
  const now = options.now ?? Date.now;
  const agent = {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true }),
  };

  function send(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<RawAttempt> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let statusCode: number | null = null;
      let retryAfter: string | string[] | undefined;
      let settled = false;

      // Streaming so that only `maxResponseBytes` are ever held: the promise API would buffer the whole body.
      const stream = got.stream.post(url, {
        body,
        headers,
        agent,
        followRedirect: false,
        retry: { limit: 0 }, // the queue schedules retries
        throwHttpErrors: false,
        timeout: { request: timeoutMs },
      });

      const finish = (error: unknown): void => {
        if (settled) return;
        settled = true;
        resolve({ statusCode, retryAfter, body: Buffer.concat(chunks, size), error });
      };
      const stopReading = (): void => {
        finish(null);
        stream.destroy();
      };

      stream.on('response', (response: http.IncomingMessage) => {
        statusCode = response.statusCode ?? null;
        retryAfter = response.headers['retry-after'];
        if (maxResponseBytes === 0) stopReading();
      });
      stream.on('data', (chunk: Buffer) => {
        if (settled) return;
        const kept = chunk.subarray(0, maxResponseBytes - size);
        chunks.push(kept);
        size += kept.length;
        if (size >= maxResponseBytes) stopReading();
      });
      stream.on('end', () => finish(null));
      // Stays attached after settling: an 'error' with no listener would crash the process.
      stream.on('error', (err: unknown) => finish(err));
      stream.on('close', () => finish(null));
    });
  }

  async function deliver(endpoint: WebhookEndpoint, eventId: string, body: string): Promise<DeliveryResult> {
    const urlProblem = validateEndpointUrl(endpoint.url);
    if (urlProblem !== null) {
      throw new LsyncError('LSYNC_ERR_CONFIG', `webhook "${endpoint.name}" url: ${urlProblem}`, { field: 'webhooks.url' });
    }
    const timeoutMs = endpoint.timeoutMs ?? DEFAULTS.timeoutMs;
    const headers = {
      'content-type': 'application/json',
      'user-agent': userAgent,
      ...signatureHeaders(endpoint.secret, eventId, Math.floor(now() / 1000), body),
    };

    const started = performance.now();
    const raw = await send(endpoint.url, headers, body, timeoutMs);
    const durationMs = Math.round(performance.now() - started);
    const responseBody = redact(raw.body.toString('utf8'), endpoint.secret);

    // Once a status line arrived it is the receiver's answer, even if reading the body then failed.
    if (raw.statusCode !== null) {
      const status = raw.statusCode;
      if (status >= 200 && status < 300) {
        return { outcome: 'delivered', statusCode: status, error: null, retryAfterMs: null, durationMs, responseBody };
      }
      return {
        outcome: status === 410 ? 'gone' : 'retry',
        statusCode: status,
        error: `HTTP ${status}`,
        retryAfterMs: status === 410 ? null : parseRetryAfter(raw.retryAfter, now()),
        durationMs,
        responseBody,
      };
    }
    const error = raw.error === null ? 'connection closed without a response' : describeError(raw.error, timeoutMs);
    return { outcome: 'retry', statusCode: null, error: redact(error, endpoint.secret), retryAfterMs: null, durationMs, responseBody };
  }

  return {
    deliver,
    close(): void {
      agent.http.destroy();
      agent.https.destroy();
    },
  };
}
