import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';

export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** A daemon config for tests: shipped defaults, simulator mode, fast polling, ephemeral HTTP port. */
export function testConfig(redisUrl: string, prefix: string, overrides: Record<string, unknown> = {}): Config {
  return loadConfig({
    env: {},
    overrides: {
      creatify: { simulator: true, maxRequestsPerSecond: 100 },
      redis: { url: redisUrl, prefix },
      poll: { intervalMs: 200, missingGraceCycles: 3 },
      http: { port: 0, host: '127.0.0.1' },
      log: { level: 'silent' },
      ...overrides,
    },
  }).config;
}

export const silentLogger = pino({ level: 'silent' });
