/**
 * Progress as a number and the completion estimate it supports. Pure. SPEC "Decisions": 0 ≤ p ≤ 1 is a
 * fraction, 1 < p ≤ 100 a percentage, "1" and 1 mean complete; anything else does not parse. An estimate needs
 * two distinct readings in the current status run (the first one kept as the origin) and forward movement;
 * otherwise there is none — never an invented one.
 */

/** The 0..1 fraction of a stored progress string, or null when it does not parse. */
export function progressFraction(progress: string | null): number | null {
  if (progress === null) return null;
  const text = progress.trim().replace(/%$/, '');
  if (text === '' || !/^[+]?(\d+(\.\d*)?|\.\d+)$/.test(text)) return null;
  const value = Number(text);
  if (value <= 1) return value;
  if (value <= 100) return value / 100;
  return null;
}

/** The first parsed reading of a status run: `<fraction>@<ms>`, stored as one hash field. */
export interface ProgressOrigin {
  fraction: number;
  atMs: number;
}

export function encodeOrigin(origin: ProgressOrigin): string {
  return `${origin.fraction}@${origin.atMs}`;
}

export function decodeOrigin(value: string | null | undefined): ProgressOrigin | null {
  if (value === null || value === undefined) return null;
  const [fraction, atMs] = value.split('@').map(Number);
  return fraction === undefined || atMs === undefined || Number.isNaN(fraction) || Number.isNaN(atMs) ? null : { fraction, atMs };
}

/** Linear estimate from the origin to the latest reading; null unless progress moved forward over time. */
export function estimateCompletion(origin: ProgressOrigin | null, fraction: number | null, atMs: number): number | null {
  if (origin === null || fraction === null || fraction >= 1) return null;
  const moved = fraction - origin.fraction;
  const elapsed = atMs - origin.atMs;
  if (moved <= 0 || elapsed <= 0) return null;
  return Math.round(atMs + ((1 - fraction) * elapsed) / moved);
}
