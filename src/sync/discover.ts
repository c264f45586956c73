import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CreatifyClient } from '../creatify/client.js';
import type { Keys } from '../store/keys.js';
import type { TrackingStore } from '../store/tracking.js';
import { normalizeStatus } from '../shared/status.js';

export interface DiscoverDeps {
  client: CreatifyClient;
  store: TrackingStore;
  redis: Redis;
  keys: Keys;
  terminalStatuses: ReadonlySet<string>;
  logger: Logger;
}

/**
 * Lists the account's lipsyncs (no `ids`) and tracks the non-terminal ones never discovered before.
 * "Never discovered" is remembered in a set, so an id a team untracked on purpose is not re-tracked.
 */
export async function discoverOnce(deps: DiscoverDeps): Promise<{ listed: number; tracked: number }> {
  const { items } = await deps.client.listAll();
  const candidates = items.filter((item) => !deps.terminalStatuses.has(normalizeStatus(item.status) ?? '')).map((item) => item.id.toLowerCase());
  if (candidates.length === 0) return { listed: items.length, tracked: 0 };
  const pipeline = deps.redis.pipeline();
  candidates.forEach((id) => pipeline.sadd(deps.keys.discovered, id));
  const added = ((await pipeline.exec()) ?? []).map(([, n]) => n === 1);
  const fresh = candidates.filter((_, i) => added[i]);
  const codes = await deps.store.track(fresh);
  const tracked = [...codes.values()].filter((c) => c === 'tracked').length;
  if (tracked > 0) deps.logger.info({ listed: items.length, tracked }, 'discovery tracked new lipsyncs');
  return { listed: items.length, tracked };
}
