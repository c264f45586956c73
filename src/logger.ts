import { pino, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';

export type { Logger };

/**
 * Paths pino blanks before a line is written. Secrets travel in config objects, HTTP headers and webhook
 * endpoint definitions; each of those shapes is listed so no code path can print one by accident.
 */
export const REDACT_PATHS = [
  'apiKey',
  'apiId',
  'secret',
  'apiToken',
  'readToken',
  '*.apiKey',
  '*.apiId',
  '*.secret',
  '*.apiToken',
  '*.readToken',
  'config.creatify.apiKey',
  'config.creatify.apiId',
  'config.http.apiToken',
  'config.http.readToken',
  'config.webhooks[*].secret',
  'webhooks[*].secret',
  'endpoint.secret',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers["x-api-id"]',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'request.headers.authorization',
  'request.headers["x-api-key"]',
];

export interface LoggerOptions {
  level: string;
  /** Human-readable lines (pino-pretty): for a TTY and the demo; JSON otherwise. */
  pretty?: boolean;
  destination?: NodeJS.WritableStream;
}

const PRETTY = { colorize: true, singleLine: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,service' };

export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  const base = {
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'lipsync-sync' },
  };
  if (options.destination) return pino(base, options.pretty === true ? pinoPretty({ ...PRETTY, destination: options.destination }) : options.destination);
  if (pretty) return pino({ ...base, transport: { target: 'pino-pretty', options: PRETTY } });
  return pino(base);
}
