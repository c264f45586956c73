import { Queue, Worker } from 'bullmq';
import { anyJobAlive } from '../../src/sync/job-liveness.js';
import { cleanupPrefix, newRedis, uniquePrefix, waitUntil } from '../helpers/redis.js';

const prefix = uniquePrefix('liveness');
const bullPrefix = `{${prefix}}`;
const redis = newRedis();
const connection = newRedis();
const workerConnection = newRedis();
const queue = new Queue('q', { connection, prefix: bullPrefix });

afterAll(async () => {
  await queue.close();
  for (const c of [redis, connection, workerConnection]) c.disconnect();
  await cleanupPrefix(prefix);
});

// Job ids are prefixed: a bare "delayed" or "wait" would name one of the queue's own keys.
describe('anyJobAlive', () => {
  it('counts a waiting or delayed job as alive, and a missing one as dead', async () => {
    await queue.add('w', {}, { jobId: 'job-waiting' });
    await queue.add('d', {}, { jobId: 'job-delayed', delay: 60_000 });
    expect(await anyJobAlive(redis, queue, ['job-waiting'])).toBe(true);
    expect(await anyJobAlive(redis, queue, ['job-delayed'])).toBe(true);
    expect(await anyJobAlive(redis, queue, ['job-never-added'])).toBe(false);
    expect(await anyJobAlive(redis, queue, ['job-never-added', 'job-delayed'])).toBe(true);
    await queue.obliterate({ force: true });
  });

  it('counts a running job as alive while its lock is held, dead once the lock is gone, and a finished one as dead', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const worker = new Worker('q', () => held, { connection: workerConnection, prefix: bullPrefix, lockDuration: 60_000 });
    try {
      await queue.add('r', {}, { jobId: 'job-running' });
      await waitUntil(async () => (await queue.getJobState('job-running')) === 'active', 'the job to run');
      expect(await anyJobAlive(redis, queue, ['job-running'])).toBe(true);
      // What a SIGKILLed worker leaves once its lock expires: active, no lock.
      await redis.del(queue.toKey('job-running:lock'));
      expect(await anyJobAlive(redis, queue, ['job-running'])).toBe(false);
    } finally {
      release();
      await worker.close(true);
    }
    await queue.add('f', {}, { jobId: 'job-finished' });
    const finisher = new Worker('q', async () => 'ok', { connection: workerConnection, prefix: bullPrefix });
    try {
      await waitUntil(async () => (await queue.getJobState('job-finished')) === 'completed', 'the job to finish');
      expect(await anyJobAlive(redis, queue, ['job-finished'])).toBe(false);
    } finally {
      await finisher.close();
    }
  });
});
