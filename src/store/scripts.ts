import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** Lua sources beside this module (copied to dist/ by scripts/postbuild.mjs). */
function lua(name: string): string {
  return readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
}

const SCRIPTS = ['applyBatch', 'trackIds', 'untrackIds', 'startCycle', 'finishBatch', 'deliveryHandoff', 'deliveryPosition', 'deliveryFinish', 'deliveryFailed', 'deliveryOrderGate', 'epochEnsure', 'rateGate'] as const;
type ScriptName = (typeof SCRIPTS)[number];

type ScriptCall = (numKeys: number, ...keysAndArgs: Array<string | number>) => Promise<unknown>;

const SOURCES = new Map<ScriptName, string>(SCRIPTS.map((name) => [name, lua(name)]));
const DEFINED = new WeakSet<Redis>();

/**
 * Runs one of our Lua scripts through ioredis `defineCommand` (EVALSHA with a transparent EVAL fallback
 * after a Redis restart flushed the script cache). Keys first, then arguments.
 */
export function runScript(redis: Redis, name: ScriptName, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
  if (!DEFINED.has(redis)) {
    for (const [scriptName, source] of SOURCES) redis.defineCommand(`lsync_${scriptName}`, { lua: source });
    DEFINED.add(redis);
  }
  const command = (redis as unknown as Record<string, ScriptCall>)[`lsync_${name}`];
  if (command === undefined) throw new Error(`Lua script ${name} is not defined`);
  return command.call(redis, keys.length, ...keys, ...args);
}
