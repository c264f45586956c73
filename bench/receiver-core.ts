import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '../src/webhooks/verify.js';

export interface ReceiverConfig {
  /** `whsec_…` the deliveries are signed with. */
  secret: string;
  /** Parse each body as a ChangeEvent (type, created_at, lipsync_id): needed for latency, costs CPU. */
  parseBodies: boolean;
  /** Verify the signature of every n-th request (0: never). */
  verifyEvery: number;
}

/** One received delivery. `createdAt`/`type`/`lipsyncId` only when bodies are parsed (else NaN / ''). */
export interface ReceivedRecord {
  id: string;
  receivedAt: number;
  type: string;
  createdAt: number;
  lipsyncId: string;
}

export interface ReceiverCounts {
  requests: number;
  verified: number;
  verifyFailed: number;
  parseFailed: number;
  firstFailure: string | null;
}

export function zeroCounts(): ReceiverCounts {
  return { requests: 0, verified: 0, verifyFailed: 0, parseFailed: 0, firstFailure: null };
}

export function resetCounts(counts: ReceiverCounts): void {
  Object.assign(counts, zeroCounts());
}

export function addCounts(into: ReceiverCounts, delta: ReceiverCounts): void {
  into.requests += delta.requests;
  into.verified += delta.verified;
  into.verifyFailed += delta.verifyFailed;
  into.parseFailed += delta.parseFailed;
  into.firstFailure ??= delta.firstFailure;
}

/**
 * A minimal, fast webhook receiver: reads the body, answers 204, stamps the receive time (unix ms, when the
 * whole body has arrived) and verifies a sample of signatures with the project's own verifier.
 */
export function createReceiverServer(config: ReceiverConfig, counts: ReceiverCounts, onRecord: (record: ReceivedRecord) => void): http.Server {
  let seen = 0; // total, for sampling (counts are reset as deltas are reported)
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const receivedAt = Date.now();
      res.writeHead(204);
      res.end();
      counts.requests += 1;
      seen += 1;
      const header = req.headers['webhook-id'];
      const id = typeof header === 'string' ? header : '';
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      if (config.verifyEvery > 0 && seen % config.verifyEvery === 0) {
        try {
          verifyWebhook({ secret: config.secret, headers: req.headers, body });
          counts.verified += 1;
        } catch (err) {
          counts.verifyFailed += 1;
          counts.firstFailure ??= err instanceof Error ? err.message : String(err);
        }
      }
      let type = '';
      let createdAt = Number.NaN;
      let lipsyncId = '';
      if (config.parseBodies) {
        try {
          const event = JSON.parse(body.toString('utf8')) as { type?: unknown; created_at?: unknown; data?: { lipsync_id?: unknown } };
          type = typeof event.type === 'string' ? event.type : '';
          createdAt = typeof event.created_at === 'string' ? Date.parse(event.created_at) : Number.NaN;
          lipsyncId = typeof event.data?.lipsync_id === 'string' ? event.data.lipsync_id : '';
        } catch {
          counts.parseFailed += 1;
        }
      }
      onRecord({ id, receivedAt, type, createdAt, lipsyncId });
    });
  });
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  return server;
}

export async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

export async function close(server: http.Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}
