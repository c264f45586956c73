/**
 * One webhook attempt over HTTP: signs, POSTs, classifies the answer. Invariants: it never retries, never
 * follows a redirect and never throws for a network or HTTP problem (only for an invalid endpoint); at most
 * `maxResponseBytes` of an answer are read, and the endpoint's secret never appears in what it returns.
 */
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { LsyncError } from '../errors.js';
import { packageVersion } from '../version.js';
import { parseRetryAfter } from '../shared/retry-after.js';
import { signatureHeadersWithKey } from './sign.js';
import { parseSecret } from './secret.js';
import { DEFAULTS as CONFIG_DEFAULTS } from '../config/schema.js';
import type { EventType } from '../events/types.js';

export interface WebhookEndpoint {
  name: string;
  url: string;
  /** `whsec_<base64>`. */
  secret: string;
  /** Event types to send; all when absent. */
  events?: EventType[];
  /** Whole-request timeout, ms; default 15000. */
  timeoutMs?: number;
  maxAttempts?: number;
  /** Delays between attempts for this endpoint, seconds; default `delivery.retryScheduleSeconds`. */
  retryScheduleSeconds?: number[];
  /** Deliveries in flight to this endpoint per replica; default max(1, floor(delivery.concurrency / endpoints)). */
  maxInFlight?: number;
  /** Failing this long without a success (seconds) disables the endpoint; default 5 days. */
  disableAfterSeconds?: number;
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
  timeoutMs: CONFIG_DEFAULTS.webhookTimeoutMs,
  maxResponseBytes: 4096,
} as const;

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
  if (code === 'ETIMEDOUT') return `timeout after ${timeoutMs} ms`;
  if (code !== undefined) return code;
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

  /**
   * One POST with node:http rather than got: got's per-request option handling cost 60 % of the sender's CPU
   * here (2,660 signed deliveries/s with got vs 6,624/s with node:http, `npm run bench` section 3), and this is
   * the hot path. node:http never follows redirects, and nothing here retries: the queue schedules retries.
   */
  function send(target: URL, headers: Record<string, string | number>, body: string, timeoutMs: number): Promise<RawAttempt> {
    return new Promise((resolve) => {
      const client = target.protocol === 'https:' ? https : http;
      const chunks: Buffer[] = [];
      let size = 0;
      let statusCode: number | null = null;
      let retryAfter: string | string[] | undefined;
      let settled = false;

      const finish = (error: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ statusCode, retryAfter, body: Buffer.concat(chunks, size), error });
      };
      const request = client.request(target, {
        method: 'POST',
        agent: target.protocol === 'https:' ? agent.https : agent.http,
        headers,
      });
      // Whole-request deadline (connect + send + answer), like got's `timeout.request`.
      const timer = setTimeout(() => request.destroy(Object.assign(new Error(`timeout after ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);

      request.on('response', (response: http.IncomingMessage) => {
        statusCode = response.statusCode ?? null;
        retryAfter = response.headers['retry-after'];
        // Only `maxResponseBytes` are ever held; past that the socket is dropped instead of draining a huge body.
        const stopReading = (): void => {
          finish(null);
          response.destroy();
        };
        if (maxResponseBytes === 0) return stopReading();
        response.on('data', (chunk: Buffer) => {
          if (settled) return;
          const kept = chunk.subarray(0, maxResponseBytes - size);
          chunks.push(kept);
          size += kept.length;
          if (size >= maxResponseBytes) stopReading();
        });
        response.on('end', () => finish(null));
        response.on('error', (err: unknown) => finish(err));
        response.on('close', () => finish(null));
      });
      // Stays attached after settling: an 'error' with no listener would crash the process.
      request.on('error', (err: unknown) => finish(err));
      request.end(body);
    });
  }

  // Endpoint URLs are validated and parsed once each, not twice per delivery on the hot path.
  const targets = new Map<string, URL>();
  function targetOf(endpoint: WebhookEndpoint): URL {
    let target = targets.get(endpoint.url);
    if (target === undefined) {
      const urlProblem = validateEndpointUrl(endpoint.url);
      if (urlProblem !== null) {
        throw new LsyncError('LSYNC_ERR_CONFIG', `webhook "${endpoint.name}" url: ${urlProblem}`, { field: 'webhooks.url' });
      }
      target = new URL(endpoint.url);
      targets.set(endpoint.url, target);
    }
    return target;
  }

  // Secrets are validated and decoded once each too (parseSecret throws LSYNC_ERR_CONFIG, never quoting the value).
  const keys = new Map<string, Buffer>();
  function keyOf(secret: string): Buffer {
    let key = keys.get(secret);
    if (key === undefined) {
      key = parseSecret(secret);
      keys.set(secret, key);
    }
    return key;
  }

  async function deliver(endpoint: WebhookEndpoint, eventId: string, body: string): Promise<DeliveryResult> {
    const target = targetOf(endpoint);
    const timeoutMs = endpoint.timeoutMs ?? DEFAULTS.timeoutMs;
    const signature = signatureHeadersWithKey(keyOf(endpoint.secret), eventId, Math.floor(now() / 1000), body);
    const headers = {
      'content-type': 'application/json',
      'user-agent': userAgent,
      'webhook-id': signature['webhook-id'],
      'webhook-timestamp': signature['webhook-timestamp'],
      'webhook-signature': signature['webhook-signature'],
      'content-length': Buffer.byteLength(body),
    };

    const started = performance.now();
    const raw = await send(target, headers, body, timeoutMs);
    const durationMs = Math.round(performance.now() - started);
    const responseBody = raw.body.length === 0 ? '' : redact(raw.body.toString('utf8'), endpoint.secret);

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
