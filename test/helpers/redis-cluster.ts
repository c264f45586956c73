/**
 * A throw-away Redis Cluster (N masters, no replicas) on free loopback ports, for tests that must see keys
 * spread over several nodes (CROSSSLOT, hash tags, BullMQ on a Cluster client). Nothing is persisted; the
 * nodes die with the test process.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';

export interface RedisClusterNode {
  host: '127.0.0.1';
  port: number;
}

export interface RedisClusterHandle {
  nodes: RedisClusterNode[];
  /** `redis://127.0.0.1:P`, one per master. */
  urls: string[];
  /** Kills every node and removes its directory; safe to call twice. */
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  masters?: number;
}

const HOST = '127.0.0.1';
/** Redis puts a node's cluster bus on port+10000, so a node port above this has no bus port. */
const MAX_NODE_PORT = 65535 - 10000;
const PING_TIMEOUT_MS = 10_000;
const CREATE_TIMEOUT_MS = 30_000;
const CONVERGE_TIMEOUT_MS = 20_000;

/**
 * Why a cluster cannot be started here (a missing binary), or null. Synchronous because jest registers
 * tests synchronously: a test file decides `test` vs `test.skip` at module load.
 */
export function redisClusterUnavailable(): string | null {
  for (const binary of ['redis-server', 'redis-cli']) {
    const probe = spawnSync(binary, ['--version'], { stdio: 'ignore' });
    if (probe.error !== undefined || probe.status !== 0) {
      return `${binary} not found on PATH; install the redis-server apt package (apt-get install redis-server) to run the Redis Cluster tests`;
    }
  }
  return null;
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterHandle | { skipped: string }> {
  const unavailable = redisClusterUnavailable();
  if (unavailable !== null) return { skipped: unavailable };
  const masters = options.masters ?? 3;
  // redis-cli refuses to create a cluster with fewer than 3 masters.
  if (!Number.isInteger(masters) || masters < 3) throw new Error(`startRedisCluster: masters must be an integer >= 3, got ${masters}`);

  const started: Started[] = [];
  const stop = once(() => Promise.all(started.map(stopNode)).then(() => undefined));
  try {
    const ports = await freeNodePorts(masters);
    for (const port of ports) started.push(spawnNode(port));
    await Promise.all(started.map((node) => waitForPing(node, PING_TIMEOUT_MS)));
    await createCluster(ports);
    await waitForConvergence(started, CONVERGE_TIMEOUT_MS);
  } catch (err) {
    await stop();
    throw new Error(`startRedisCluster: ${oneLine(err)}`);
  }
  const nodes = started.map((s): RedisClusterNode => ({ host: HOST, port: s.port }));
  return { nodes, urls: nodes.map((n) => `redis://${n.host}:${n.port}`), stop };
}

/** A Cluster client on the handle's nodes; `maxRetriesPerRequest: null` because BullMQ workers demand it. */
export function newClusterClient(handle: RedisClusterHandle): Cluster {
  return new Cluster(
    handle.nodes.map((n) => ({ host: n.host, port: n.port })),
    { lazyConnect: false, enableReadyCheck: true, redisOptions: { maxRetriesPerRequest: null } },
  );
}

interface Started {
  port: number;
  dir: string;
  child: ChildProcess;
}

/**
 * Inside a jest test file `process` is a sandbox copy whose 'exit' event never fires, so the exit hook goes
 * on the real process, reached through a host-realm function (`spawn` comes from Node, not the sandbox).
 * Outside jest this is simply `process`.
 */
const hostProcess = (spawn.constructor as FunctionConstructor)('return process')() as NodeJS.Process;
const live = new Set<Started>();
let exitHookInstalled = false;

/** Whatever way the test process ends (a failed test, process.exit), the nodes and their dirs go with it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  hostProcess.on('exit', () => {
    for (const node of live) {
      if (isRunning(node.child)) node.child.kill('SIGKILL');
      rmSync(node.dir, { recursive: true, force: true });
    }
    live.clear();
  });
}

function spawnNode(port: number): Started {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), `redis-cluster-${port}-`));
  const child = spawn(
    'redis-server',
    [
      '--port', String(port),
      '--bind', HOST,
      '--cluster-enabled', 'yes',
      '--cluster-config-file', `nodes-${port}.conf`,
      '--dir', dir,
      '--save', '',
      '--appendonly', 'no',
      '--cluster-node-timeout', '2000',
      '--maxmemory-policy', 'noeviction',
    ],
    { stdio: 'ignore' },
  );
  // Without a listener a spawn failure would be an uncaught 'error'; waitForPing reports it via exitCode.
  child.on('error', () => undefined);
  // A forgotten stop() must not keep jest waiting forever: unref lets the process end, and the exit hook
  // then kills the node (unref alone would leave it running).
  child.unref();
  const node = { port, dir, child };
  live.add(node);
  return node;
}

async function stopNode(node: Started): Promise<void> {
  const { child } = node;
  if (isRunning(child)) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
  rmSync(node.dir, { recursive: true, force: true });
  live.delete(node);
}

function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

/** `count` distinct ports, each with its bus port (port+10000) free too; re-checked right before use. */
async function freeNodePorts(count: number): Promise<number[]> {
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let attempt = 0; ports.length < count; attempt++) {
    if (attempt > 200) throw new Error(`no ${count} free loopback port pairs (port, port+10000) found`);
    const port = await listenAndClose(0);
    // The ephemeral range reaches 60999; a port above 55535 has no bus port.
    if (port === null || port > MAX_NODE_PORT || taken.has(port) || taken.has(port + 10000)) continue;
    if ((await listenAndClose(port + 10000)) === null) continue;
    taken.add(port).add(port + 10000);
    ports.push(port);
  }
  return ports;
}

/** Binds `port` on loopback (0: any) and releases it; the bound port, or null if it was in use. */
function listenAndClose(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen(port, HOST, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : null));
    });
  });
}

/** One command on one node over a fresh connection: probes must not retry or queue while a node is down. */
async function query(port: number, ...args: string[]): Promise<unknown> {
  const probe = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return await probe.call(args[0] as string, ...args.slice(1));
  } finally {
    probe.disconnect();
  }
}

async function waitForPing(node: Started, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isRunning(node.child)) throw new Error(`redis-server on port ${node.port} exited (code ${node.child.exitCode}, signal ${node.child.signalCode})`);
    try {
      if ((await query(node.port, 'PING')) === 'PONG') return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${node.port} did not answer PING within ${timeoutMs} ms`);
    await sleep(50);
  }
}

function createCluster(ports: number[]): Promise<void> {
  const args = ['--cluster', 'create', ...ports.map((p) => `${HOST}:${p}`), '--cluster-replicas', '0', '--cluster-yes'];
  return new Promise((resolve, reject) => {
    execFile('redis-cli', args, { timeout: CREATE_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err === null) return resolve();
      // redis-cli prints its reason ("[ERR] ...") on stdout, not stderr.
      const why = `${stderr}\n${stdout}`.split('\n').filter((l) => /ERR|error/i.test(l)).pop() ?? err.message;
      reject(new Error(`redis-cli --cluster create failed${err.killed ? ` (killed after ${CREATE_TIMEOUT_MS} ms)` : ''}: ${why.trim()}`));
    });
  });
}

/** Until every node says cluster_state:ok with all 16384 slots and every other node known. */
async function waitForConvergence(nodes: Started[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no CLUSTER INFO yet';
  for (;;) {
    try {
      const infos = await Promise.all(nodes.map((n) => query(n.port, 'CLUSTER', 'INFO')));
      const laggard = infos.map((info) => parseInfo(String(info))).findIndex((i) => i['cluster_state'] !== 'ok' || i['cluster_slots_assigned'] !== '16384' || i['cluster_known_nodes'] !== String(nodes.length));
      if (laggard === -1) return;
      last = `node ${nodes[laggard]?.port}: ${String(infos[laggard]).split(/\r?\n/).slice(0, 3).join(' ')}`;
    } catch (err) {
      last = oneLine(err);
    }
    if (Date.now() > deadline) throw new Error(`cluster did not converge within ${timeoutMs} ms (${last})`);
    await sleep(100);
  }
}

function parseInfo(info: string): Record<string, string> {
  return Object.fromEntries(info.split(/\r?\n/).filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
