import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import type { ChangeEvent } from '../events/types.js';
import { verifyWebhook } from '../webhooks/verify.js';

/** The demo's webhook endpoint: verifies each signature like a real receiver would, counts the event by type, and with `verbose` prints it. */
export class DemoReceiver {
  readonly #server: http.Server;
  readonly counts = new Map<string, number>();

  constructor(secret: string, logger: Logger, options: { verbose: boolean } = { verbose: false }) {
    this.#server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        try {
          verifyWebhook({ secret, headers: req.headers, body });
        } catch (err) {
          logger.error({ err }, 'webhook signature rejected');
          res.writeHead(400).end();
          return;
        }
        const event = JSON.parse(body) as ChangeEvent;
        this.counts.set(event.type, (this.counts.get(event.type) ?? 0) + 1);
        const { lipsync_id, current } = event.data;
        if (options.verbose && event.type !== 'lipsync.progress_changed' && event.type !== 'lipsync.tracked') {
          logger.info({ lipsync: lipsync_id.slice(0, 8), status: current.status, progress: current.progress, reason: current.failed_reason ?? undefined }, `webhook ← ${event.type}`);
        }
        res.writeHead(204).end();
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/webhook`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
