import { createServer } from 'node:net';
import { runCli } from '../helpers/cli.js';
import { REDIS_URL } from '../helpers/redis.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const env = { REDIS_URL, LOG_PRETTY: '0' };

describe('lipsync-sync demo (built CLI, real Redis)', () => {
  it('prints the compact live view, not a line per webhook', async () => {
    const port = await freePort();
    const { code, stdout } = await runCli(['demo', '--count', '60', '--duration', '5', '--port', String(port)], env, { timeoutMs: 30_000 });
    expect(code).toBe(0);
    const frames = stdout.split('\n').filter((line) => line.startsWith('lipsync-sync demo ·'));
    expect(frames.length).toBeGreaterThanOrEqual(2);
    expect(stdout).toContain(`status page http://127.0.0.1:${port}/`);
    expect(stdout).toMatch(/lipsyncs\s+\d+ pending/);
    expect(stdout).toMatch(/webhooks\s+\d+ received\s+[\d.]+ events\/s · tracked 60/);
    expect(stdout).not.toContain('webhook ←');
  });

  it('--verbose keeps the per-event lines', async () => {
    const port = await freePort();
    const { code, stdout } = await runCli(['demo', '--count', '60', '--duration', '6', '--port', String(port), '--verbose'], env, { timeoutMs: 30_000 });
    expect(code).toBe(0);
    expect(stdout).toContain('webhook ← lipsync.');
    expect(stdout).toContain('lipsync-sync demo ·');
  });
});
