import { Redis } from 'ioredis';
import { isRedisUnavailable } from '../../src/store/redis.js';
import { REDIS_URL } from '../helpers/redis.js';

describe('isRedisUnavailable', () => {
  it('is true for any error while the client is not connected, whatever its message', () => {
    const idle = new Redis(REDIS_URL, { lazyConnect: true });
    expect(isRedisUnavailable(new Error('anything at all'), idle)).toBe(true);
    idle.disconnect();
  });

  it('on a connected client, tells socket errors from command errors by code and class, not message', async () => {
    const redis = new Redis(REDIS_URL);
    try {
      await redis.ping();
      expect(isRedisUnavailable(Object.assign(new Error('x'), { code: 'ECONNRESET' }), redis)).toBe(true);
      expect(isRedisUnavailable(Object.assign(new Error('x'), { name: 'MaxRetriesPerRequestError' }), redis)).toBe(true);
      const commandError = await redis.call('NOSUCHCOMMAND').catch((err: unknown) => err);
      expect(isRedisUnavailable(commandError, redis)).toBe(false);
      expect(isRedisUnavailable(new Error('Connection is closed.'), redis)).toBe(false);
    } finally {
      redis.disconnect();
    }
  });
});
