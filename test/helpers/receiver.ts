import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: http.IncomingHttpHeaders;
  /** Raw body as received, for signature checks. */
  body: string;
  /** Unix ms when the request arrived. */
  receivedAt: number;
  /** Client port: equal ports on two requests mean a reused keep-alive socket. */
  remotePort: number | undefined;
}

export interface ReceiverResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait before answering, e.g. to provoke a client timeout. */
  delayMs?: number;
}

/**
 * Decides one answer. Return a response to send it; or write to `res` yourself (streaming, socket
 * tricks); or return nothing without touching `res` to fall through to the queue / default status.
 */
export type ReceiverHandler = (
  req: RecordedRequest,
  res: http.ServerResponse,
  raw: http.IncomingMessage,
) => ReceiverResponse | void | Promise<ReceiverResponse | void>;

/** A real HTTP webhook receiver on 127.0.0.1 that records every request. */
export class WebhookReceiver {
  readonly requests: RecordedRequest[] = [];
  defaultStatus = 200;
  handler: ReceiverHandler | undefined;

  private readonly queue: ReceiverResponse[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waiters = new Set<() => void>();
  private readonly sockets = new Set<Socket>();
  private readonly server = http
    .createServer((req, res) => {
      void this.handle(req, res).catch(() => res.destroy());
    })
    .on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });

  /** Answers for the next requests, first in first out, before the default status applies. */
  enqueue(...responses: ReceiverResponse[]): this {
    this.queue.push(...responses);
    return this;
  }

  /** Listens on an ephemeral port; resolves to the base URL (`http://127.0.0.1:<port>`). */
  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.url;
  }

  get url(): string {
    const address = this.server.address() as AddressInfo | null;
    if (address === null) throw new Error('receiver is not started');
    return `http://127.0.0.1:${address.port}`;
  }

  /** TCP connections currently open, idle keep-alive ones included. */
  get openConnections(): number {
    return this.sockets.size;
  }

  /** Closes the server, including idle keep-alive sockets and requests still waiting on a delay. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /** Resolves once `count` requests have been recorded; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs = 5000): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.requests.length < count) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`receiver got ${this.requests.length} request(s), expected ${count} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const recorded: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      receivedAt,
      remotePort: req.socket.remotePort,
    };
    this.requests.push(recorded);
    for (const waiter of [...this.waiters]) waiter();

    let response: ReceiverResponse | undefined;
    if (this.handler !== undefined) {
      const decided = await this.handler(recorded, res, req);
      if (decided) response = decided;
      else if (res.headersSent || res.writableEnded || res.destroyed) return;
    }
    response ??= this.queue.shift() ?? { status: this.defaultStatus };

    if (response.delayMs !== undefined && response.delayMs > 0) await this.sleep(response.delayMs);
    // The client may have given up (timeout) while we waited.
    if (res.destroyed) return;
    res.writeHead(response.status, response.headers);
    res.end(response.body ?? '');
  }
}
