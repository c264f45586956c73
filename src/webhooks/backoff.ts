/** Seconds to wait after attempt 1, 2, … (SPEC "Webhook delivery"); one attempt more than entries. */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = [1, 5, 30, 120, 600, 1800, 3600];
export const DEFAULT_MAX_ATTEMPTS = DEFAULT_RETRY_SCHEDULE_SECONDS.length + 1;
/** ±20 % so endpoints that failed together do not get retried in lockstep. */
export const JITTER_RATIO = 0.2;
/** An endpoint cannot park a delivery longer than this with `Retry-After`. */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/**
 * Delay before the next attempt after `attemptsMade` attempts, with jitter.
 * `random` in [0, 1]: 0 gives −20 %, 0.5 the plain value, 1 gives +20 %. Past the schedule's end the last entry repeats.
 */
export function retryDelayMs(attemptsMade: number, scheduleSeconds: readonly number[] = DEFAULT_RETRY_SCHEDULE_SECONDS, random: () => number = Math.random): number {
  if (scheduleSeconds.length === 0) return 0;
  const index = Math.min(Math.max(Math.floor(attemptsMade), 1), scheduleSeconds.length) - 1;
  const baseMs = (scheduleSeconds[index] ?? 0) * 1000;
  const factor = 1 + JITTER_RATIO * (2 * random() - 1);
  return Math.max(0, Math.round(baseMs * factor));
}

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '\\d{2}:\\d{2}:\\d{2}';
// The three HTTP-date forms of RFC 9110 §5.6.7; Date.parse alone also accepts strings like "7" or "foo 1".
const IMF_FIXDATE = new RegExp(`^${DAY}, \\d{2} ${MONTH} \\d{4} ${TIME} GMT$`);
const RFC850_DATE = new RegExp(`^${LONG_DAY}, \\d{2}-${MONTH}-\\d{2} ${TIME} GMT$`);
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} (?: \\d|\\d{2}) ${TIME} \\d{4}$`);

/** `Retry-After` (delta-seconds or HTTP-date) as milliseconds from `now`, capped at 1 h; `null` when absent or unparsable. */
export function parseRetryAfter(headerValue: string | string[] | null | undefined, now: number = Date.now()): number | null {
  const raw = Array.isArray(headerValue) ? headerValue[0] : headerValue;
  if (raw === undefined || raw === null) return null;
  const value = raw.trim();
  if (/^\d+$/.test(value)) return Math.min(Number(value) * 1000, MAX_RETRY_AFTER_MS);
  let at: number;
  if (IMF_FIXDATE.test(value) || RFC850_DATE.test(value)) at = Date.parse(value);
  else if (ASCTIME_DATE.test(value)) at = Date.parse(`${value} GMT`); // asctime has no zone but means GMT
  else return null;
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(at - now, 0), MAX_RETRY_AFTER_MS);
}

/** The schedule's delay or the endpoint's `Retry-After`, whichever is longer. */
export function nextDelayMs(
  attemptsMade: number,
  scheduleSeconds: readonly number[] = DEFAULT_RETRY_SCHEDULE_SECONDS,
  retryAfterMs: number | null = null,
  random: () => number = Math.random,
): number {
  return Math.max(retryDelayMs(attemptsMade, scheduleSeconds, random), retryAfterMs ?? 0);
}
