import { z } from 'zod';
import { EVENT_TYPES } from '../events/types.js';
import { compileFailureRules } from '../metrics/failure-class.js';
import { secretProblem } from '../webhooks/secret.js';
import { messageOf } from '../errors.js';
import { minCeilingMs } from '../sync/cadence.js';
import { MAX_PARTITIONS } from '../store/partitions.js';

const SECOND = 1000;

/** Every default in one place, with units. Nothing else in the code base invents a default. */
export const DEFAULTS = {
  creatifyBaseUrl: 'https://api.creatify.ai',
  creatifyTimeoutMs: 10 * SECOND,
  creatifyMaxRequestsPerSecond: 5,
  creatifyRetries: 2,
  /** A full 100-item list answer is ~300 KB; 10 MiB refuses only a runaway upstream. */
  creatifyMaxResponseBytes: 10 * 1024 * 1024,
  redisUrl: 'redis://127.0.0.1:6379',
  prefix: 'lsync',
  pollIntervalMs: 15 * SECOND,
  batchSize: 100,
  concurrency: 4,
  missingGraceCycles: 3,
  terminalStatuses: ['done', 'failed', 'rejected', 'cancelled'],
  discoverIntervalMs: 5 * 60 * SECOND,
  /** ~100 bytes each in Redis: the discovered set stays under ~10 MB. */
  discoverMaxRemembered: 100_000,
  terminalRetentionSeconds: 7 * 24 * 3600,
  /** Seconds without movement, per status, after which a lipsync is reported stalled. */
  stalledAfterSeconds: { pending: 3600, in_queue: 1800, running: 900 } as Record<string, number>,
  /**
   * Smart cadence (only when `poll.cadence` is configured): ms between polls of an id, per normalised status
   * (`new` = never answered, `default` = any other status). Running ids every default interval keeps the crash
   * bound for them; ids waiting upstream change rarely, so they are polled a quarter as often.
   */
  cadencePeriodMs: { running: 15 * SECOND, new: 15 * SECOND, pending: 60 * SECOND, in_queue: 60 * SECOND, default: 30 * SECOND } as Record<string, number>,
  /** Ms without a change of status or progress after which an id's period doubles (and again per further span). */
  cadenceIdleAfterMs: 10 * 60 * SECOND,
  /** Ms: no id waits longer than this between polls, however idle. */
  cadenceMaxPeriodMs: 5 * 60 * SECOND,
  webhookTimeoutMs: 15 * SECOND,
  retryScheduleSeconds: [1, 5, 30, 120, 600, 1800, 3600],
  deliveryConcurrency: 50,
  /** Per endpoint: dead letters kept; past it the oldest are dropped (counted and logged). */
  maxDeadLetters: 1_000_000,
  /** Per endpoint: this long failing without one success (seconds, 5 days) disables it. */
  disableAfterSeconds: 5 * 24 * 3600,
  /** Circuit breaker (SPEC "Decisions": endpoint fairness), shared by replicas: consecutive failures that open it, */
  breakerFailureThreshold: 5,
  /** how long it stays open before one probe is let through (half-open), */
  breakerOpenMs: 30 * SECOND,
  /** and how long a probe may take beyond the endpoint's timeout before another replica may probe instead. */
  breakerProbeGraceMs: 5 * SECOND,
  httpPort: 9464,
  /** Loopback: the API is not reachable from elsewhere until an operator opens it (the image sets 0.0.0.0). */
  httpHost: '127.0.0.1',
  logLevel: 'info',
  /** From SIGTERM/SIGINT to exit: in-flight work may finish within this, then the rest is forced closed. */
  shutdownGraceMs: 10 * SECOND,
} as const;

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' });

export const webhookSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 characters of letters, digits, "_", "." or "-"'),
  url: httpUrl,
  secret: z.string().superRefine((secret, ctx) => {
    const problem = secretProblem(secret);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
  }),
  /** Event types this endpoint receives; a typo must not silently filter out every event. */
  events: z.array(z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(', ')}` })).min(1).optional(),
  timeoutMs: z.number().int().min(100).max(120 * SECOND).optional(),
  maxAttempts: z.number().int().min(1).max(50).optional(),
  /** This endpoint's retry delays (seconds), instead of delivery.retryScheduleSeconds. */
  retryScheduleSeconds: z.array(z.number().positive()).min(1).max(49).optional(),
  /** Deliveries in flight to this endpoint per replica; default max(1, floor(delivery.concurrency / endpoints)). */
  maxInFlight: z.number().int().min(1).max(1000).optional(),
  /** Failing this long without a success (seconds) disables the endpoint; its deliveries become dead letters. */
  disableAfterSeconds: z.number().int().min(1).default(DEFAULTS.disableAfterSeconds),
});

export const cadenceSchema = z
  .strictObject({
    /** Status → ms between polls; `default` covers statuses not listed. Keys are normalised like statuses. */
    periodMs: z.record(z.string().min(1), z.number().int().min(100)).default({ ...DEFAULTS.cadencePeriodMs }),
    /** Ms without movement per doubling of the period. */
    idleAfterMs: z.number().int().min(1000).default(DEFAULTS.cadenceIdleAfterMs),
    /** Ms: the ceiling of every period, so no id starves. */
    maxPeriodMs: z.number().int().min(100).default(DEFAULTS.cadenceMaxPeriodMs),
  })
  .superRefine((cadence, ctx) => {
    if (cadence.periodMs['default'] === undefined) ctx.addIssue({ code: 'custom', path: ['periodMs', 'default'], message: 'is required: the period of statuses not listed (ms)' });
    for (const [status, ms] of Object.entries(cadence.periodMs)) {
      if (ms > cadence.maxPeriodMs) ctx.addIssue({ code: 'custom', path: ['periodMs', status], message: `is ${ms} ms, above maxPeriodMs (${cadence.maxPeriodMs}); lower it or raise maxPeriodMs` });
    }
  });

export const configSchema = z.strictObject({
  creatify: z
    .strictObject({
      baseUrl: httpUrl.default(DEFAULTS.creatifyBaseUrl),
      apiId: z.string().min(1).optional(),
      apiKey: z.string().min(1).optional(),
      /** Serve the list endpoint from the built-in simulator instead of the real API (demo, tests). */
      simulator: z.boolean().default(false),
      timeoutMs: z.number().int().min(100).max(120 * SECOND).default(DEFAULTS.creatifyTimeoutMs),
      /** Shared by all replicas and partitions: one rate gate key in Redis (sync/rate-gate.ts). */
      maxRequestsPerSecond: z.number().positive().max(1000).default(DEFAULTS.creatifyMaxRequestsPerSecond),
      /** In-request retries on 5xx and network errors; a 429 holds the shared rate gate off. */
      retries: z.number().int().min(0).max(10).default(DEFAULTS.creatifyRetries),
      /** Bytes; a larger answer is cut off and refused (LSYNC_ERR_UPSTREAM_TOO_LARGE, creatify_oversized_responses_total). */
      maxResponseBytes: z.number().int().min(1024).default(DEFAULTS.creatifyMaxResponseBytes),
    })
    .prefault({}),
  redis: z
    .strictObject({
      url: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').default(DEFAULTS.redisUrl),
      prefix: z
        .string()
        .regex(/^[A-Za-z0-9_{}.-]{1,64}$/, 'must be 1-64 characters of letters, digits, "_", ".", "-", "{" or "}" (no ":")')
        .default(DEFAULTS.prefix),
      /** Start even when Redis may evict keys (maxmemory-policy other than noeviction); tracked ids may vanish. */
      allowEviction: z.boolean().default(false),
      /**
       * Hash-tagged keyspace partitions (`{prefix:p}`), each with its own pending set, states, stream and queues,
       * so a Redis Cluster spreads them over its shards. Fixed for the life of the data: a start with another
       * count than the data was written with is refused (store/layout.ts).
       */
      partitions: z.number().int().min(1).max(MAX_PARTITIONS).default(1),
      /** `url` names Redis Cluster seed nodes (comma-separated) instead of one Redis. */
      cluster: z.boolean().default(false),
    })
    .prefault({}),
  poll: z
    .strictObject({
      intervalMs: z.number().int().min(100).default(DEFAULTS.pollIntervalMs),
      batchSize: z.number().int().min(1).max(100).default(DEFAULTS.batchSize),
      concurrency: z.number().int().min(1).max(64).default(DEFAULTS.concurrency),
      missingGraceCycles: z.number().int().min(1).default(DEFAULTS.missingGraceCycles),
      terminalStatuses: z.array(z.string().min(1)).min(1).default([...DEFAULTS.terminalStatuses]),
      discover: z.boolean().default(false),
      discoverIntervalMs: z.number().int().min(1000).default(DEFAULTS.discoverIntervalMs),
      /** Bound of the discovered set; the ids the account listing stopped showing longest ago are forgotten first. */
      discoverMaxRemembered: z.number().int().min(1).default(DEFAULTS.discoverMaxRemembered),
      /** How long a terminal lipsync's state is kept for `status` and dedupe after it leaves the pending set. */
      terminalRetentionSeconds: z.number().int().min(60).default(DEFAULTS.terminalRetentionSeconds),
      /** Status → seconds without a change of status or progress before `lipsync.stalled`; `{}` turns it off. */
      stalledAfterSeconds: z.record(z.string().min(1), z.number().positive()).default({ ...DEFAULTS.stalledAfterSeconds }),
      /** Off when absent (every pending id polled once per interval); on, each id is polled when due (src/sync/cadence.ts). */
      cadence: cadenceSchema.optional(),
    })
    .superRefine((poll, ctx) => {
      const least = minCeilingMs(poll.intervalMs);
      if (poll.cadence !== undefined && poll.cadence.maxPeriodMs < least) {
        ctx.addIssue({ code: 'custom', path: ['cadence', 'maxPeriodMs'], message: `is ${poll.cadence.maxPeriodMs} ms; with poll.intervalMs ${poll.intervalMs} it must be at least ${least} (2.5 intervals: one period plus the time a due id waits for its tick and request)` });
      }
    })
    .prefault({}),
  webhooks: z
    .array(webhookSchema)
    .superRefine((hooks, ctx) => {
      // Names key Redis state, metrics and dead letters: two endpoints with one name would share them.
      const seen = new Set<string>();
      hooks.forEach((hook, i) => {
        if (seen.has(hook.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${hook.name}" is used by another endpoint; give each endpoint a unique name` });
        seen.add(hook.name);
      });
    })
    .default([]),
  delivery: z
    .strictObject({
      retryScheduleSeconds: z.array(z.number().positive()).min(1).max(49).default([...DEFAULTS.retryScheduleSeconds]),
      concurrency: z.number().int().min(1).max(1000).default(DEFAULTS.deliveryConcurrency),
      /** Per endpoint; the oldest dead letters past it are dropped, counted and logged. */
      maxDeadLetters: z.number().int().min(1).default(DEFAULTS.maxDeadLetters),
    })
    .prefault({}),
  http: z
    .strictObject({
      enabled: z.boolean().default(true),
      port: z.number().int().min(0).max(65535).default(DEFAULTS.httpPort),
      host: z.string().min(1).default(DEFAULTS.httpHost),
      /** Reads and writes /v1; without it every /v1 route answers 403. */
      apiToken: z.string().min(16, 'must be at least 16 characters').optional(),
      /** Reads /v1 only (GET); refused on write routes. */
      readToken: z.string().min(16, 'must be at least 16 characters').optional(),
    })
    .prefault({}),
  shutdown: z
    .strictObject({
      graceMs: z.number().int().min(0).max(10 * 60 * SECOND).default(DEFAULTS.shutdownGraceMs),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default(DEFAULTS.logLevel),
      pretty: z.boolean().optional(),
    })
    .prefault({}),
  /** failed_reason → reason_class rules for `failures_total`, first match wins; default DEFAULT_FAILURE_CLASSES. */
  failureClasses: z
    .array(z.strictObject({ class: z.string(), pattern: z.string().min(1) }))
    .superRefine((rules, ctx) => {
      try {
        compileFailureRules(rules);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: messageOf(err) });
      }
    })
    .optional(),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type WebhookConfig = z.infer<typeof webhookSchema>;
export type CadenceConfig = z.infer<typeof cadenceSchema>;
