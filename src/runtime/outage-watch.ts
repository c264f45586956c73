/**
 * Tells each dependency's outage as one story in the logs (runtime/outage.ts) and keeps its `*_up` gauge:
 * Redis from the main connection's events, Creatify from each request's outcome. Reminders come from one
 * unref'd timer, so a watcher never keeps the process alive.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Outage, type OutageNotice } from './outage.js';

const REMIND_TICK_MS = 5000;
/** Consecutive 5xx answers that make Creatify "down" (one 5xx is noise; network errors and 401 count at once). */
const CREATIFY_5XX_STREAK = 3;

export interface OutageWatch {
  stop(): void;
}

export interface RedisWatch extends OutageWatch {
  /** While an outage is open: a one-line description with its age; null while Redis is reachable. */
  outage(): string | null;
}

interface Story {
  what: string;
  /** What the outage pauses, for the first line. */
  paused: string;
  context: Record<string, unknown>;
  logger: Logger;
  setUp: (up: boolean) => void;
}

function tell(notice: OutageNotice | null, story: Story): void {
  if (notice === null) return;
  const { logger, context, what } = story;
  if (notice.kind === 'down') {
    story.setUp(false);
    logger.error({ ...context, reason: notice.reason, paused: story.paused }, `${what} unreachable; retrying until it is back`);
  } else if (notice.kind === 'reminder') {
    logger.warn({ ...context, reason: notice.reason, outageSeconds: Math.round(notice.ageMs / 1000) }, `${what} still unreachable`);
  } else {
    story.setUp(true);
    logger.info({ ...context, outageSeconds: Math.round(notice.durationMs / 100) / 10 }, `${what} is back`);
  }
}

function remindEvery(outage: Outage, story: Story): NodeJS.Timeout {
  const timer = setInterval(() => tell(outage.tick(Date.now()), story), REMIND_TICK_MS);
  timer.unref();
  return timer;
}

/** Watches the daemon's main Redis connection. `url` must already be redacted. */
export function watchRedis(redis: Redis, options: { url: string; logger: Logger; setUp: (up: boolean) => void }): RedisWatch {
  const outage = new Outage();
  const story: Story = { what: 'Redis', paused: 'polling, webhook hand-off and delivery', context: { redis: options.url }, logger: options.logger, setUp: options.setUp };
  let stopped = false;
  const onError = (err: Error & { code?: string }): void => {
    if (!stopped) tell(outage.fail(err.code ?? err.message, Date.now()), story);
  };
  const onClose = (): void => {
    if (!stopped) tell(outage.fail('connection closed', Date.now()), story);
  };
  const onReady = (): void => tell(outage.recover(Date.now()), story);
  redis.on('error', onError);
  redis.on('close', onClose);
  redis.on('ready', onReady);
  options.setUp(redis.status === 'ready');
  const timer = remindEvery(outage, story);
  return {
    outage() {
      const open = outage.current(Date.now());
      return open === null ? null : `unreachable at ${options.url} for ${Math.round(open.ageMs / 1000)} s (${open.reason})`;
    },
    stop() {
      stopped = true;
      clearInterval(timer);
      redis.off('error', onError);
      redis.off('close', onClose);
      redis.off('ready', onReady);
    },
  };
}

/** Watches Creatify through each request attempt's code (HTTP status, `network` or `timeout`). */
export function watchCreatify(options: { baseUrl: string; logger: Logger; setUp: (up: boolean) => void }): OutageWatch & { attempt(code: string): void } {
  const outage = new Outage();
  const story: Story = { what: 'Creatify', paused: 'polling (ids stay tracked)', context: { baseUrl: options.baseUrl }, logger: options.logger, setUp: options.setUp };
  let streak = 0;
  options.setUp(true);
  const timer = remindEvery(outage, story);
  return {
    attempt(code) {
      const now = Date.now();
      if (code === 'network' || code === 'timeout') return tell(outage.fail(code, now), story);
      if (code === '401' || code === '403') return tell(outage.fail(`HTTP ${code}: check CREATIFY_API_ID and CREATIFY_API_KEY`, now), story);
      if (code.startsWith('5')) {
        streak += 1;
        if (streak >= CREATIFY_5XX_STREAK) tell(outage.fail(`${streak} answers in a row with HTTP 5xx (last ${code})`, now), story);
        return;
      }
      streak = 0;
      if (code.startsWith('2')) tell(outage.recover(now), story);
    },
    stop() {
      clearInterval(timer);
    },
  };
}
