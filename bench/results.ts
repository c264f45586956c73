/**
 * The figures `npm run bench -- --json` prints as its last stdout line (SPEC "Decisions"): each section records
 * its headline numbers here under a stable key; ratio keys are plain ratios (measured / goal or / bound).
 */
const results: Record<string, number | string> = {};

export function record(key: string, value: number | string): void {
  results[key] = typeof value === 'number' && !Number.isFinite(value) ? 'NaN' : value;
}

/** One JSON object, keys in the order they were recorded. */
export function resultsJson(): string {
  return JSON.stringify(results);
}
