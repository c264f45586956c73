/**
 * A webhook endpoint for the chaos suite: records every delivery with its arrival time, verifies each
 * signature with the Standard Webhooks reference library (not the daemon's own code), and can go down.
 * Invariant: while down it accepts the TCP connection and drops it, as a crashed app behind a live port does;
 * nothing sent while down is recorded as delivered.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { Delivery } from './verdict.js';

export class ChaosEndpoint {
  readonly deliveries: Delivery[] = [];
  /** Requests refused while down. */
  refused = 0;
  down = false;
  readonly #verifier: Webhook;
  readonly #server: http.Server;

  constructor(
    readonly name: string,
    readonly secret: string,
  ) {
    this.#verifier = new Webhook(secret);
    this.#server = http.createServer((req, res) => this.#handle(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hooks/${this.name}`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.down) {
      this.refused++;
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const receivedAt = Date.now();
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(req.headers[h] ?? '')]));
      let signatureOk = true;
      try {
        this.#verifier.verify(body, headers);
      } catch {
        signatureOk = false;
      }
      let event: Delivery['event'] = null;
      try {
        event = JSON.parse(body) as Delivery['event'];
      } catch {
        event = null;
      }
      this.deliveries.push({ webhookId: headers['webhook-id'] ?? '', receivedAt, signatureOk, event });
      res.writeHead(signatureOk ? 204 : 400).end();
    });
  }
}
