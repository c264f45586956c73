/**
 * The one module that spells Redis key names (SPEC "Redis"). Everything else asks it.
 * A prefix written with a hash tag, e.g. `{lsync}`, keeps all keys in one Cluster slot.
 */
export interface Keys {
  prefix: string;
  /** Sorted set of tracked, non-terminal ids; score = ms when tracked. */
  pending: string;
  /** Hash of last seen fields for one id. */
  state(id: string): string;
  /** Sorted set id → ms of the last answer that contained it: one write per batch, however many ids it held. */
  seen: string;
  /**
   * Sorted set id → ms when the id is next due for a poll (`poll.cadence`). Holds exactly the pending ids: the
   * scripts that add to or remove from `pending` do the same here; scores move only while cadence is on.
   */
  due: string;
  /** Set of pending ids whose last answer could not be read (SPEC "Decisions": unreadable item). */
  unreadable: string;
  /** Sorted set id → ms since which a pending id has been reported stalled (`lipsync.stalled`). */
  stalled: string;
  /** Hash status → number of stalled pending ids in that status (the `stalled_lipsyncs` gauge). */
  stalledCounts: string;
  /** Stream of change events: the single source webhook delivery reads from. */
  events: string;
  /** Hash status → number of pending ids whose last status it is (`new` before the first answer). */
  statusCounts: string;
  /** Hash of daemon-wide facts all replicas agree on (last successful poll, current cycle). */
  meta: string;
  /** Set of batch job ids still outstanding in the current poll cycle. */
  cycleBatches: string;
  /** List of the latest applied transitions as JSON, newest first, capped (src/store/recent.ts; the status page). */
  recent: string;
  /** String written at first start; its absence later means Redis lost our data (src/store/epoch.ts). */
  epoch: string;
  /** Sorted set of ids discovery has listed (score = ms last listed), capped by poll.discoverMaxRemembered. */
  discovered: string;
  /** Per endpoint: the event ids waiting for one lipsync, oldest first (delivery ordering). */
  deliveryFifo(endpoint: string, lipsyncId: string): string;
  /** Per endpoint: sorted set token → expiry ms of recent hand-offs (idempotent hand-off; pruned as it goes). */
  deliveryHandedOff(endpoint: string): string;
  /**
   * Per endpoint: sorted set token → expiry ms of deliveries whose job was parked (delayed) because it was not
   * its FIFO's head yet; the finish step that makes one the head promotes its job (hint only: latency, not order).
   */
  deliveryParked(endpoint: string): string;
  /** Hash endpoint → deliveries waiting in its FIFOs (head included), kept by the FIFO Lua steps. */
  deliveryQueued: string;
  /** Per endpoint: circuit-breaker state hash (failures, openUntil, probeUntil, failingSince), shared by replicas. */
  endpointBreaker(endpoint: string): string;
  /** Per endpoint: dead-lettered deliveries, newest last. */
  deadLetters(endpoint: string): string;
  /** Set of endpoint names that have dead letters (SCAN-free listing). */
  deadLetterEndpoints: string;
  /** Hash endpoint → reason, for endpoints disabled by a 410 or by `disableAfterSeconds` of failure. */
  disabledEndpoints: string;
  /** BullMQ key prefix (hash-tagged) and queue names. */
  bullPrefix: string;
  pollQueue: string;
  /** SPEC's `{prefix}-webhooks`: the base of the per-endpoint delivery queues. */
  webhookQueue: string;
  /** `{prefix}-webhooks-<endpoint>`: one BullMQ queue per endpoint, so endpoints cannot hold each other's slots. */
  webhookEndpointQueue(endpoint: string): string;
}

/** The prefix with any hash-tag braces removed (`{lsync}` → `lsync`, `{lsync:3}` → `lsync:3`). */
export function basePrefix(prefix: string): string {
  return prefix.replace(/[{}]/g, '');
}

/** The keys outside every partition (store/partitions.ts): one each per deployment, whatever the partition count. */
export interface SharedKeys {
  /** String: the partition count the data was written with (store/layout.ts). */
  layout: string;
  /** String: ms of the next free Creatify request slot, shared by every replica and partition (sync/rate-gate.ts). */
  rate: string;
}

export function sharedKeys(prefix: string): SharedKeys {
  const p = `${basePrefix(prefix)}:`;
  return { layout: `${p}layout`, rate: `${p}rate` };
}

export function keysFor(prefix: string): Keys {
  const p = `${prefix}:`;
  // BullMQ refuses ':' in queue names: partition `{lsync:3}` names its queues `lsync-3-…`.
  const queueBase = basePrefix(prefix).replace(/:/g, '-');
  return {
    prefix,
    pending: `${p}pending`,
    state: (id) => `${p}state:${id}`,
    seen: `${p}seen`,
    due: `${p}due`,
    unreadable: `${p}unreadable`,
    stalled: `${p}stalled`,
    stalledCounts: `${p}stalled_counts`,
    events: `${p}events`,
    statusCounts: `${p}status_counts`,
    meta: `${p}meta`,
    cycleBatches: `${p}cycle:batches`,
    recent: `${p}recent`,
    epoch: `${p}epoch`,
    discovered: `${p}discovered`,
    deliveryFifo: (endpoint, lipsyncId) => `${p}wh:fifo:${endpoint}:${lipsyncId}`,
    deliveryHandedOff: (endpoint) => `${p}wh:sent:${endpoint}`,
    endpointBreaker: (endpoint) => `${p}wh:breaker:${endpoint}`,
    deliveryParked: (endpoint) => `${p}wh:parked:${endpoint}`,
    deliveryQueued: `${p}wh:queued`,
    deadLetters: (endpoint) => `${p}wh:dead:${endpoint}`,
    deadLetterEndpoints: `${p}wh:dead-endpoints`,
    disabledEndpoints: `${p}wh:disabled`,
    bullPrefix: prefix.startsWith('{') ? prefix : `{${prefix}}`,
    pollQueue: `${queueBase}-poll`,
    webhookQueue: `${queueBase}-webhooks`,
    webhookEndpointQueue: (endpoint) => `${queueBase}-webhooks-${endpoint}`,
  };
}

/**
 * State hash field names. `rev` is bumped by every write and is what compare-and-set compares; `seq` counts
 * applied changes (events' `data.sequence`); `epoch` is the ms the record was created (part of event ids).
 * `seen_at` is the time of the last write; the last sighting of an unchanged id is in the `seen` zset.
 */
export const STATE_FIELDS = {
  status: 'status',
  progress: 'progress',
  failedReason: 'failed_reason',
  updatedAt: 'updated_at',
  seenAt: 'seen_at',
  epoch: 'epoch',
  sequence: 'seq',
  unreadable: 'unreadable',
  unreadableDetail: 'unreadable_detail',
  changedAt: 'changed_at',
  progressOrigin: 'progress_origin',
  stalledSince: 'stalled_since',
  label: 'label',
  firstSeenAt: 'first_seen_at',
  trackedAt: 'tracked_at',
  missed: 'missed',
  rev: 'rev',
  events: 'events',
  terminal: 'terminal',
  lipsync: 'lipsync',
} as const;
