import { readFileSync } from 'node:fs';
import type { ChainableCommander, Redis } from 'ioredis';

/** Lua sources beside this module (copied to dist/ by scripts/postbuild.mjs). */
function lua(name: string): string {
  return readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
}

const SCRIPTS = ['applyBatch', 'trackIds', 'untrackIds', 'startCycle', 'finishBatch', 'deliveryHandoff', 'deliveryPosition', 'deliveryFinish', 'deliveryFailed', 'deliveryOrderGate', 'epochEnsure', 'rateGate'] as const;
type ScriptName = (typeof SCRIPTS)[number];

type ScriptCall = (numKeys: number, ...keysAndArgs: Array<string | number>) => Promise<unknown>;

const SOURCES = new Map<ScriptName, string>(SCRIPTS.map((name) => [name, lua(name)]));
const DEFINED = new WeakSet<Redis>();

function defineScripts(redis: Redis): void {
  if (DEFINED.has(redis)) return;
  for (const [scriptName, source] of SOURCES) redis.defineCommand(`lsync_${scriptName}`, { lua: source });
  DEFINED.add(redis);
}

/**
 * Runs one of our Lua scripts through ioredis `defineCommand` (EVALSHA with a transparent EVAL fallback
 * after a Redis restart flushed the script cache). Keys first, then arguments.
 */
export function runScript(redis: Redis, name: ScriptName, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
  defineScripts(redis);
  const command = (redis as unknown as Record<string, ScriptCall>)[`lsync_${name}`];
  if (command === undefined) throw new Error(`Lua script ${name} is not defined`);
  return command.call(redis, keys.length, ...keys, ...args);
}

/**
 * A pipeline of `redis` that can queue our scripts (queueScript): many script calls in one write and one
 * round trip. Each call still succeeds or fails on its own (exec() answers `[error, reply]` per call).
 */
export function scriptPipeline(redis: Redis): ChainableCommander {
  defineScripts(redis);
  return redis.pipeline();
}

/** Queues one of our scripts on a pipeline made by scriptPipeline(). */
export function queueScript(pipeline: ChainableCommander, name: ScriptName, keys: readonly string[], args: ReadonlyArray<string | number>): void {
  const command = (pipeline as unknown as Record<string, ScriptCall>)[`lsync_${name}`];
  if (command === undefined) throw new Error(`Lua script ${name} is not defined on this pipeline (make it with scriptPipeline)`);
  void command.call(pipeline, keys.length, ...keys, ...args);
}
