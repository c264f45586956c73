/**
 * `lipsync-sync demo` owns a private redis-server: whichever way the demo ends — SIGTERM sent to it alone (not
 * to its process group, as docker stop or a supervisor does), or `--duration` — that child ends with it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { freePort } from '../../src/runtime/private-redis.js';
import { startCli } from '../helpers/cli.js';
import { waitUntil } from '../helpers/redis.js';

/** Pids of the direct children of `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    if (text !== '') out.push(...text.split(/\s+/).map(Number));
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A failed assertion SIGKILLs the demo, which cannot clean up then: end its redis-server too, leave no orphan. */
function killAll(demo: { child: { pid?: number | undefined; kill(signal: NodeJS.Signals): boolean } }, redisPid: number | undefined): void {
  const child = redisPid ?? (demo.child.pid !== undefined && alive(demo.child.pid) ? redisChildOf(demo.child.pid) : undefined);
  demo.child.kill('SIGKILL');
  if (child !== undefined && alive(child)) process.kill(child, 'SIGKILL');
}

function redisChildOf(pid: number): number | undefined {
  return childrenOf(pid).find((child) => readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('redis-server'));
}

// info level: the live view otherwise replaces the log lines this test reads.
const env = async (): Promise<Record<string, string>> => ({ LOG_PRETTY: '0', LOG_LEVEL: 'info', PORT: String(await freePort()) });

describe('demo and its private redis-server', () => {
  it('stops its redis-server and says so when SIGTERM reaches the demo process alone', async () => {
    const demo = startCli(['demo', '--count', '3'], await env());
    const pid = demo.child.pid ?? 0;
    const exited = new Promise<number | null>((resolve) => demo.child.once('exit', (code) => resolve(code)));
    let redisPid: number | undefined;
    try {
      await waitUntil(() => demo.output().includes('demo running'), 'the demo to run', 20_000);
      redisPid = redisChildOf(pid);
      expect(redisPid).toBeDefined();
      process.kill(pid, 'SIGTERM');
      expect(await exited).toBe(0);
      expect(demo.output()).toMatch(/signal received; stopping/);
      await waitUntil(() => !alive(redisPid ?? 0), 'the private redis-server to end', 5000);
    } finally {
      killAll(demo, redisPid);
    }
  }, 40_000);

  it('stops its redis-server when --duration ends the demo', async () => {
    const demo = startCli(['demo', '--count', '3', '--duration', '2'], await env());
    const pid = demo.child.pid ?? 0;
    const exited = new Promise<number | null>((resolve) => demo.child.once('exit', (code) => resolve(code)));
    let redisPid: number | undefined;
    try {
      redisPid = await waitUntil(() => redisChildOf(pid), 'the private redis-server to start', 20_000);
      expect(await exited).toBe(0);
      await waitUntil(() => !alive(redisPid ?? 0), 'the private redis-server to end', 5000);
    } finally {
      killAll(demo, redisPid);
    }
  }, 40_000);
});
