import { Redis } from 'ioredis';
import { clusterAuth, clusterSeeds, isRedisUnavailable, redactUrl } from '../../src/store/redis.js';
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

describe('clusterSeeds', () => {
  it('reads one or several seed nodes, with or without a scheme on the later ones', () => {
    expect(clusterSeeds('redis://10.0.0.1:7000')).toEqual([{ host: '10.0.0.1', port: 7000 }]);
    expect(clusterSeeds('redis://10.0.0.1:7000,redis://10.0.0.2:7001')).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
    ]);
    expect(clusterSeeds('redis://a:7000, b:7001')).toEqual([
      { host: 'a', port: 7000 },
      { host: 'b', port: 7001 },
    ]);
    expect(clusterSeeds('redis://a')).toEqual([{ host: 'a', port: 6379 }]);
  });
});

describe('clusterAuth', () => {
  it('takes user, password and TLS from the first seed for every node, and nothing when there are none', () => {
    expect(clusterAuth('rediss://ops:s%3Acret@10.0.0.1:7000,10.0.0.2:7000')).toEqual({ username: 'ops', password: 's:cret', tls: {} });
    expect(clusterAuth('redis://:pw@a:7000')).toEqual({ password: 'pw' });
    expect(clusterAuth('redis://a:7000,redis://b:7000')).toEqual({});
  });
});

describe('redactUrl', () => {
  it('hides the password of one URL and of each URL in a Cluster seed list', () => {
    expect(redactUrl('redis://:hunter2@a:6379')).toBe('redis://:***@a:6379');
    const shown = redactUrl('redis://ops:hunter2@a:7000,redis://ops:hunter2@b:7000,c:7000');
    expect(shown).not.toContain('hunter2');
    expect(shown).toBe('redis://ops:***@a:7000,redis://ops:***@b:7000,c:7000');
  });
});
