import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isLipsyncId, normalizeId, parseLipsyncId } from '../creatify/ids.js';
import { isLsyncError, LsyncError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { LipsyncStore } from '../store/partitioned-store.js';
import { accessFor, authorize, type ApiTokens } from './auth.js';
import { isRedisUnavailable, type Redis } from '../store/redis.js';

export const MAX_IDS_PER_CALL = 10_000;
/** 10,000 UUIDs as JSON are ~400 KB; 1 MiB leaves room and still refuses abuse with 413. */
const BODY_LIMIT_BYTES = 1024 * 1024;

export interface ReadinessCheck {
  ok: boolean;
  detail?: string;
  /** `false`: a failed check that is reported (status `degraded`) without making the replica unready. */
  blocking?: false;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, ReadinessCheck>;
}

/** Ready when every blocking check passes. */
export function isReady(checks: Readiness['checks']): boolean {
  return Object.values(checks).every((c) => c.ok || c.blocking === false);
}

export interface HttpDeps {
  store: LipsyncStore;
  /** `http.apiToken` / `http.readToken`; without an API token every /v1 route answers 403. */
  tokens: ApiTokens;
  logger: Logger;
  metrics(): Promise<{ contentType: string; body: string }>;
  readiness(): Promise<Readiness>;
  replayDeadLetters(endpoint: string | undefined): Promise<{ replayed: number }>;
}

const trackBody = z.strictObject({
  ids: z.array(z.string()).min(1, 'give at least one id').max(MAX_IDS_PER_CALL, `at most ${MAX_IDS_PER_CALL} ids per call; split the list`),
});
const listQuery = z.strictObject({
  status: z.string().min(1).optional(),
  cursor: z.string().regex(/^\d+$/, 'must be the cursor returned by the previous page').optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
const replayBody = z.strictObject({ endpoint: z.string().min(1).optional() }).optional();

/**
 * The one HTTP port: metrics, health and readiness (open), and the /v1 API (bearer token, see v1Routes).
 * Errors are always JSON `{error, field, message}`.
 */
export function buildHttpServer(deps: HttpDeps): FastifyInstance {
  const app = Fastify({ bodyLimit: BODY_LIMIT_BYTES, logger: false, return503OnClosing: true });

  app.setErrorHandler((err, _request, reply) => sendError(reply, err, deps.logger, deps.store.redis));
  app.setNotFoundHandler(notFound);

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const { ready, checks } = await deps.readiness();
    const status = !ready ? 'not ready' : Object.values(checks).every((c) => c.ok) ? 'ready' : 'degraded';
    return reply.code(ready ? 200 : 503).send({ status, checks });
  });
  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await deps.metrics();
    return reply.type(contentType).send(body);
  });

  app.register(async (v1) => v1Routes(v1, deps), { prefix: '/v1' });

  return app;
}

/**
 * The /v1 API. Its onRequest hook runs before the body is read, and applies to every route of this scope, so a
 * route added here cannot forget auth and an unauthenticated body is never parsed (401, never 400 or 413).
 */
function v1Routes(v1: FastifyInstance, deps: HttpDeps): void {
  v1.addHook('onRequest', async (request: FastifyRequest) => authorize(request.headers.authorization, deps.tokens, accessFor(request.method)));
  // Scoped here so the hook runs for unknown /v1 paths too: without a token nobody learns which routes exist.
  v1.setNotFoundHandler(notFound);

  v1.post('/lipsyncs', async (request, reply) => {
    const { ids } = parse(trackBody, request.body, 'body');
    const rejected: Array<{ id: unknown; reason: string }> = [];
    const valid: string[] = [];
    ids.forEach((raw, i) => {
      if (isLipsyncId(raw)) valid.push(normalizeId(raw));
      else rejected.push({ id: raw, reason: `ids[${i}]: not a lipsync UUID (expected 8-4-4-4-12 hex digits)` });
    });
    const codes = await deps.store.track(valid);
    const pick = (code: string): string[] => [...codes].filter(([, c]) => c === code).map(([id]) => id);
    const answer = { accepted: pick('tracked'), already_tracked: pick('already'), already_terminal: pick('terminal'), rejected };
    return reply.code(valid.length === 0 ? 422 : 200).send(answer);
  });

  v1.delete<{ Params: { id: string } }>('/lipsyncs/:id', async (request) => {
    const id = parseLipsyncId(request.params.id, 'id');
    const codes = await deps.store.untrack([id]);
    if (codes.get(id) !== 'untracked') throw new LsyncError('LSYNC_ERR_NOT_FOUND', `lipsync ${id} is not being tracked`, { field: 'id' });
    return { id, untracked: true };
  });

  v1.get<{ Params: { id: string } }>('/lipsyncs/:id', async (request) => {
    const id = parseLipsyncId(request.params.id, 'id');
    const record = await deps.store.get(id);
    if (record === null) throw new LsyncError('LSYNC_ERR_NOT_FOUND', `lipsync ${id} is not tracked and has no stored state`, { field: 'id' });
    return record;
  });

  v1.get('/lipsyncs', async (request) => {
    const query = parse(listQuery, request.query, 'query');
    const page = await deps.store.listPending({
      ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
      ...(query.status === undefined ? {} : { status: query.status }),
      count: query.limit ?? 100,
    });
    return { items: page.items, cursor: page.cursor === '0' ? null : page.cursor };
  });

  v1.post('/dead-letters/replay', async (request) => {
    const body = parse(replayBody, request.body ?? undefined, 'body');
    return deps.replayDeadLetters(body?.endpoint);
  });
}

function notFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.code(404).send({ error: 'LSYNC_ERR_NOT_FOUND', field: null, message: `no route ${request.method} ${request.url}` });
}

function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : where;
  const message = issue?.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue?.message ?? 'invalid';
  const tooMany = issue?.code === 'too_big' && field === 'ids';
  throw new LsyncError(tooMany ? 'LSYNC_ERR_TOO_LARGE' : 'LSYNC_ERR_USAGE', `${field}: ${message}`, { field });
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message: string;
}

function sendError(reply: FastifyReply, err: unknown, logger: Logger, redis: Redis): FastifyReply {
  if (isLsyncError(err)) {
    return reply.code(err.httpStatus).send({ error: err.code, field: err.field ?? null, message: err.message });
  }
  const e = err as FastifyLikeError;
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ error: 'LSYNC_ERR_TOO_LARGE', field: 'body', message: `request body larger than ${BODY_LIMIT_BYTES} bytes; send at most ${MAX_IDS_PER_CALL} ids per call` });
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
    return reply.code(e.statusCode).send({ error: 'LSYNC_ERR_USAGE', field: 'body', message: e.message });
  }
  // Anything else reaching here is Redis being unreachable or a bug; neither is the caller's fault.
  logger.error({ err }, 'HTTP request failed');
  if (isRedisUnavailable(err, redis)) return reply.code(503).send({ error: 'LSYNC_ERR_REDIS_UNAVAILABLE', field: null, message: 'Redis is unreachable; retry later' });
  return reply.code(500).send({ error: 'LSYNC_ERR_INTERNAL', field: null, message: 'internal error; see the daemon log' });
}
