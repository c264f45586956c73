// Runs once before any test file: builds the CLI (its tests spawn the built binary) and, when no REDIS_URL
// is set, starts a private redis-server for the whole run (never an in-memory fake). Test workers are
// started afterwards and inherit REDIS_URL.
import { execSync } from 'node:child_process';

export default async function globalSetup() {
  execSync('npm run build --silent', { stdio: 'inherit' });
  if (process.env.REDIS_URL === undefined || process.env.REDIS_URL === '') {
    const { startPrivateRedis } = await import('../dist/runtime/private-redis.js');
    const redis = await startPrivateRedis();
    process.env.REDIS_URL = redis.url;
    globalThis.__lsyncPrivateRedis = redis;
  }
}
