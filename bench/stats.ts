/** Small helpers for the benchmark's printed figures. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function line(label: string, value: string, note = ''): void {
  process.stdout.write(`${label.padEnd(52)} ${value.padStart(14)}${note === '' ? '' : `   ${note}`}\n`);
}

/** A section title, numbered like the brief. */
export function section(title: string): void {
  process.stdout.write(`\n== ${title} ${'='.repeat(Math.max(0, 100 - title.length))}\n`);
}

/** An indented free-text note under a section. */
export function note(text: string): void {
  process.stdout.write(`   · ${text}\n`);
}

export interface Summary {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  min: number;
}

/** Sorts a copy; NaN for every figure when empty. */
export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((acc, v) => acc + v, 0);
  return {
    count: sorted.length,
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    min: sorted[0] ?? Number.NaN,
  };
}

/** `p50 1.2 / p95 3.4 / p99 5.6 / max 7.8 ms` */
export function fmtSummary(s: Summary, unit = 'ms', digits = 1): string {
  return `p50 ${fmt(s.p50, digits)} / p95 ${fmt(s.p95, digits)} / p99 ${fmt(s.p99, digits)} / max ${fmt(s.max, digits)} ${unit}`;
}

export function rate(count: number, ms: number): number {
  return ms <= 0 ? Number.NaN : (count * 1000) / ms;
}

export function mb(bytes: number, digits = 1): string {
  return `${fmt(bytes / (1024 * 1024), digits)} MB`;
}

/** Signed MB, e.g. `+3.2 MB` / `-0.4 MB`. */
export function mbDelta(bytes: number, digits = 1): string {
  return `${bytes >= 0 ? '+' : '-'}${mb(Math.abs(bytes), digits)}`;
}

/** `goal 3000/s: met (1.42× goal)` */
export function goalLine(label: string, value: number, goal: number, unit = '/s'): void {
  const ratio = value / goal;
  line(label, `${ratio >= 1 ? 'met' : 'NOT met'}`, `goal ${fmt(goal)}${unit}, measured ${fmt(value)}${unit} = ${fmt(ratio, 2)}× goal`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every `everyMs` until true or `timeoutMs` passed; returns whether it became true. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}
