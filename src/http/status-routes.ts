/**
 * Mounts the status page (`GET /`, open: it shows only ids, statuses, counts, ages and failure reasons) and Bull
 * Board (`/admin/queues`). Invariant: every Bull Board route, its API and static files included, sits in one scope
 * whose onRequest hook demands HTTP Basic auth with the write token (`http.apiToken`) as password — job data carries
 * Creatify's capability URLs, so the read token never opens it, and with no write token it is closed (403).
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isLsyncError } from '../errors.js';
import { authorize } from './auth.js';
import type { StatusPageData } from './status-data.js';
import { renderStatusPage, STATUS_PAGE_CSP } from './status-page.js';

export const BULL_BOARD_PATH = '/admin/queues';

export interface StatusPageDeps {
  data(): Promise<StatusPageData>;
  /** Queues Bull Board shows. */
  queues: readonly Queue[];
  /** `http.apiToken`: Bull Board's password. */
  apiToken: string | undefined;
}

export async function registerStatusPage(app: FastifyInstance, deps: StatusPageDeps): Promise<void> {
  app.get('/', async (_request, reply) => {
    const html = renderStatusPage(await deps.data());
    return reply.type('text/html; charset=utf-8').header('content-security-policy', STATUS_PAGE_CSP).header('cache-control', 'no-store').header('x-content-type-options', 'nosniff').send(html);
  });
  await app.register(async (scope) => {
    scope.addHook('onRequest', async (request, reply) => requireWriteToken(request, reply, deps.apiToken));
    const adapter = new FastifyAdapter();
    adapter.setBasePath(BULL_BOARD_PATH);
    createBullBoard({ queues: deps.queues.map((q) => new BullMQAdapter(q)), serverAdapter: adapter });
    await scope.register(adapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
  });
}

/** HTTP Basic with any user name and the write token as password; answers 401 with a challenge otherwise. */
async function requireWriteToken(request: FastifyRequest, reply: FastifyReply, apiToken: string | undefined): Promise<FastifyReply | undefined> {
  const match = /^Basic\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  const decoded = match?.[1] === undefined ? '' : Buffer.from(match[1], 'base64').toString('utf8');
  const password = decoded.slice(decoded.indexOf(':') + 1);
  try {
    // Only the write token is passed: the read token must not open job data.
    authorize(`Bearer ${password}`, { api: apiToken, read: undefined }, 'write');
    return undefined;
  } catch (err) {
    if (!isLsyncError(err)) throw err;
    if (err.httpStatus === 401) reply.header('www-authenticate', 'Basic realm="lipsync-sync queues", charset="UTF-8"');
    return reply.code(err.httpStatus).send({ error: err.code, field: 'authorization', message: err.httpStatus === 401 ? 'Bull Board needs HTTP Basic auth: any user name, password LIPSYNC_SYNC_API_TOKEN' : err.message });
  }
}
