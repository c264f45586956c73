import type { Logger } from 'pino';
import type { CreatifyClient } from '../creatify/client.js';
import type { LipsyncStore } from '../store/partitioned-store.js';
import { normalizeStatus } from '../shared/status.js';

export interface DiscoverDeps {
  client: CreatifyClient;
  store: LipsyncStore;
  terminalStatuses: ReadonlySet<string>;
  /** poll.discoverMaxRemembered: the bound of the discovered set. */
  maxRemembered: number;
  logger: Logger;
}

/**
 * Lists the account's lipsyncs (no `ids`) and tracks the non-terminal ones never discovered before.
 * Marking an id discovered and tracking it are one atomic step (TrackingStore.trackDiscovered), so a crash
 * cannot leave an id remembered but untracked; remembering is what keeps an id a team untracked on purpose
 * from coming back. The remembered set is bounded: the ids the listing stopped showing longest ago go first.
 */
export async function discoverOnce(deps: DiscoverDeps): Promise<{ listed: number; tracked: number }> {
  const { items } = await deps.client.listAll();
  const candidates = items.filter((item) => !deps.terminalStatuses.has(normalizeStatus(item.status) ?? '')).map((item) => item.id.toLowerCase());
  if (candidates.length === 0) return { listed: items.length, tracked: 0 };
  const codes = await deps.store.trackDiscovered(candidates, deps.maxRemembered);
  const tracked = [...codes.values()].filter((c) => c === 'tracked').length;
  if (tracked > 0) deps.logger.info({ listed: items.length, tracked }, 'discovery tracked new lipsyncs');
  return { listed: items.length, tracked };
}
