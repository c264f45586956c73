/**
 * The one error catalogue. Every user-facing failure has a stable code, a CLI exit code and an HTTP status,
 * so the CLI, the HTTP API and the logs all say the same thing for the same problem.
 */

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  config: 78, // EX_CONFIG from sysexits.h
} as const;

interface ErrorKind {
  exit: number;
  http: number;
}

export const ERROR_KINDS = {
  LSYNC_ERR_CONFIG: { exit: EXIT.config, http: 500 },
  LSYNC_ERR_BAD_ID: { exit: EXIT.usage, http: 422 },
  LSYNC_ERR_BAD_BATCH: { exit: EXIT.usage, http: 422 },
  LSYNC_ERR_TOO_LARGE: { exit: EXIT.usage, http: 413 },
  LSYNC_ERR_USAGE: { exit: EXIT.usage, http: 400 },
  LSYNC_ERR_NOT_FOUND: { exit: EXIT.failure, http: 404 },
  LSYNC_ERR_UNAUTHORIZED: { exit: EXIT.failure, http: 401 },
  LSYNC_ERR_FORBIDDEN: { exit: EXIT.failure, http: 403 },
  LSYNC_ERR_REDIS_UNAVAILABLE: { exit: EXIT.failure, http: 503 },
  LSYNC_ERR_UPSTREAM: { exit: EXIT.failure, http: 502 },
  LSYNC_ERR_UPSTREAM_RESPONSE: { exit: EXIT.failure, http: 502 },
  LSYNC_ERR_UPSTREAM_TOO_LARGE: { exit: EXIT.failure, http: 502 },
  LSYNC_ERR_RATE_LIMITED: { exit: EXIT.failure, http: 429 },
  LSYNC_ERR_INTERNAL: { exit: EXIT.failure, http: 500 },
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof ERROR_KINDS;

export class LsyncError extends Error {
  override readonly name = 'LsyncError';
  readonly code: ErrorCode;
  /** The config key, request field or argument at fault, when there is one. */
  readonly field: string | undefined;
  declare readonly context: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: { field?: string; cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options.field;
    // Non-enumerable so pino and JSON.stringify do not dump large payloads (the got pattern).
    Object.defineProperty(this, 'context', { value: options.context, enumerable: false });
  }

  get exitCode(): number {
    return ERROR_KINDS[this.code].exit;
  }

  get httpStatus(): number {
    return ERROR_KINDS[this.code].http;
  }
}

export function isLsyncError(err: unknown): err is LsyncError {
  return err instanceof LsyncError;
}

/** One line for a human: `LSYNC_ERR_BAD_ID: ids[3]: "abc" is not a UUID; …`. */
export function formatError(err: unknown): string {
  if (isLsyncError(err)) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/** The message of anything thrown, for logs and one-line errors. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
