import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { LsyncError, messageOf } from '../errors.js';
import { configSchema, type Config } from './schema.js';

/** The shipped defaults file, found beside the package whether run from src/ (tests) or dist/. */
export const SHIPPED_CONFIG = fileURLToPath(new URL('../../config/default.yaml', import.meta.url));

type Env = Record<string, string | undefined>;

/** env var → config path. The only place that knows environment variable names. */
const ENV_MAP: Array<{ env: string; path: string[]; kind: 'string' | 'int' | 'json' | 'bool' }> = [
  { env: 'CREATIFY_BASE_URL', path: ['creatify', 'baseUrl'], kind: 'string' },
  { env: 'CREATIFY_API_ID', path: ['creatify', 'apiId'], kind: 'string' },
  { env: 'CREATIFY_API_KEY', path: ['creatify', 'apiKey'], kind: 'string' },
  { env: 'CREATIFY_SIMULATOR', path: ['creatify', 'simulator'], kind: 'bool' },
  { env: 'REDIS_URL', path: ['redis', 'url'], kind: 'string' },
  { env: 'LIPSYNC_SYNC_PREFIX', path: ['redis', 'prefix'], kind: 'string' },
  { env: 'REDIS_PARTITIONS', path: ['redis', 'partitions'], kind: 'int' },
  { env: 'REDIS_CLUSTER', path: ['redis', 'cluster'], kind: 'bool' },
  { env: 'POLL_INTERVAL_MS', path: ['poll', 'intervalMs'], kind: 'int' },
  { env: 'WEBHOOKS_JSON', path: ['webhooks'], kind: 'json' },
  { env: 'PORT', path: ['http', 'port'], kind: 'int' },
  { env: 'HTTP_HOST', path: ['http', 'host'], kind: 'string' },
  { env: 'LIPSYNC_SYNC_API_TOKEN', path: ['http', 'apiToken'], kind: 'string' },
  { env: 'LIPSYNC_SYNC_READ_TOKEN', path: ['http', 'readToken'], kind: 'string' },
  { env: 'LOG_LEVEL', path: ['log', 'level'], kind: 'string' },
  { env: 'SHUTDOWN_GRACE_MS', path: ['shutdown', 'graceMs'], kind: 'int' },
];

export interface LoadOptions {
  /** `--config <path>`; falls back to LIPSYNC_SYNC_CONFIG, then the shipped config/default.yaml. */
  configPath?: string;
  env?: Env;
  /** Applied after file and env: used by `demo` and tests to pin values. */
  overrides?: Record<string, unknown>;
}

export interface LoadedConfig {
  config: Config;
  source: string;
}

/** Reads file + env + overrides, validates once, and returns the frozen config or throws LSYNC_ERR_CONFIG. */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const explicit = options.configPath ?? nonEmpty(env['LIPSYNC_SYNC_CONFIG']);
  const source = explicit ?? SHIPPED_CONFIG;
  const fromFile = explicit !== undefined || existsSync(source) ? readConfigFile(source) : {};
  const merged = deepMerge(deepMerge(fromFile, envLayer(env)), options.overrides ?? {});
  const result = configSchema.safeParse(merged);
  if (!result.success) throw configError(result.error, source);
  const config = result.data;
  requireCredentials(config);
  return { config: deepFreeze(config), source };
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new LsyncError('LSYNC_ERR_CONFIG', `config file ${path}: ${reason}; pass an existing file with --config <path>`, { field: 'config' });
  }
  let data: unknown;
  try {
    data = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    const detail = messageOf(err).split('\n')[0];
    throw new LsyncError('LSYNC_ERR_CONFIG', `config file ${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'} (${detail}); fix the syntax`, { field: 'config' });
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new LsyncError('LSYNC_ERR_CONFIG', `config file ${path}: the top level must be a mapping of sections (creatify, redis, poll, …)`, { field: 'config' });
  }
  return data as Record<string, unknown>;
}

function envLayer(env: Env): Record<string, unknown> {
  const layer: Record<string, unknown> = {};
  for (const { env: name, path, kind } of ENV_MAP) {
    const raw = nonEmpty(env[name]);
    if (raw === undefined) continue;
    setPath(layer, path, parseEnvValue(name, raw, kind));
  }
  return layer;
}

function parseEnvValue(name: string, raw: string, kind: 'string' | 'int' | 'json' | 'bool'): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new LsyncError('LSYNC_ERR_CONFIG', `${name}: "${raw}" is not a boolean; use true or false`, { field: name });
    case 'int':
      if (!/^\d+$/.test(raw)) throw new LsyncError('LSYNC_ERR_CONFIG', `${name}: "${raw}" is not a whole number; set digits only`, { field: name });
      return Number(raw);
    case 'json':
      try {
        return JSON.parse(raw);
      } catch {
        throw new LsyncError('LSYNC_ERR_CONFIG', `${name}: not valid JSON; set it to a JSON array like [{"name":"ops","url":"https://…","secret":"whsec_…"}]`, { field: name });
      }
  }
}

function configError(error: z.ZodError, source: string): LsyncError {
  const issue = error.issues[0];
  const path = issue ? issue.path.map(String).join('.') : '(root)';
  const envHint = ENV_MAP.find((e) => e.path.join('.') === issue?.path.slice(0, e.path.length).map(String).join('.'));
  const where = envHint ? `${source} or ${envHint.env}` : source;
  const message = issue?.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.join(', ')}; remove them or check the spelling` : issue?.message ?? 'invalid';
  const more = error.issues.length > 1 ? ` (+${error.issues.length - 1} more)` : '';
  return new LsyncError('LSYNC_ERR_CONFIG', `${path}: ${message}; fix it in ${where}${more}`, { field: path });
}

function requireCredentials(config: Config): void {
  if (config.creatify.simulator) return;
  for (const [field, env] of [['apiId', 'CREATIFY_API_ID'], ['apiKey', 'CREATIFY_API_KEY']] as const) {
    if (config.creatify[field] === undefined) {
      throw new LsyncError(
        'LSYNC_ERR_CONFIG',
        `creatify.${field}: missing; set ${env} from your Creatify settings page, or try \`lipsync-sync demo\` which needs no key`,
        { field: `creatify.${field}` },
      );
    }
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  path.slice(0, -1).forEach((key) => {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  });
  node[path[path.length - 1] as string] = value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Objects merge key by key; arrays and scalars from `top` replace (a webhooks list is replaced, not appended). */
function deepMerge(base: Record<string, unknown>, top: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(top)) {
    const prev = out[key];
    out[key] = isPlainObject(prev) && isPlainObject(value) ? deepMerge(prev, value) : value;
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
