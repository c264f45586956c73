/**
 * The one vocabulary for lipsync statuses (SPEC "Decisions": known statuses). Statuses compare
 * case-insensitively after trimming; metric labels and zero-filled gauges use only the known set, so an
 * unexpected upstream string can never create an unbounded number of series.
 */

/** Statuses seen in the wild plus `cancelled` (a default terminal status). */
export const KNOWN_STATUSES = ['pending', 'in_queue', 'running', 'done', 'failed', 'rejected', 'cancelled'] as const;

/** Label of a tracked id that has no answer yet. */
export const UNSEEN_STATUS = 'new';

/** Label of any status outside the known set. */
export const OTHER_STATUS = 'other';

/** Trimmed and lower-cased; `null` stays `null`. */
export function normalizeStatus(status: string | null | undefined): string | null {
  return status === null || status === undefined ? null : status.trim().toLowerCase();
}

/** The configured terminal statuses, normalised for comparison. */
export function terminalSet(statuses: readonly string[]): ReadonlySet<string> {
  return new Set(statuses.map((s) => s.trim().toLowerCase()));
}

/** Every label a status gauge reports (zero-filled): known statuses, configured terminal ones, `new`, `other`. */
export function statusLabels(terminalStatuses: Iterable<string> = []): string[] {
  return [...new Set<string>([...KNOWN_STATUSES, ...terminalSet([...terminalStatuses]), UNSEEN_STATUS, OTHER_STATUS])];
}

/**
 * A status as a bounded label value: its normalised form when known (or configured terminal, or `new`),
 * else `other`. An absent or empty status is `new` (never answered).
 */
export function statusLabel(status: string | null | undefined, terminalStatuses: ReadonlySet<string> = new Set()): string {
  const normalised = normalizeStatus(status);
  if (normalised === null || normalised === '') return UNSEEN_STATUS;
  if ((KNOWN_STATUSES as readonly string[]).includes(normalised) || terminalStatuses.has(normalised) || normalised === UNSEEN_STATUS) return normalised;
  return OTHER_STATUS;
}
