/**
 * One story per outage (issue: a Redis outage read as 20 error lines a second). Pure state machine with the
 * clock passed in: the first failure opens the outage (one `down`), while it lasts at most one `reminder` per
 * `remindEveryMs` carries its age, and the first success closes it (one `up` with its duration). Everything in
 * between is for debug logs and metrics only.
 */
export type OutageNotice = { kind: 'down'; reason: string } | { kind: 'reminder'; reason: string; ageMs: number } | { kind: 'up'; durationMs: number };

export class Outage {
  #since: number | null = null;
  #lastNotice = 0;
  #reason = '';

  constructor(private readonly remindEveryMs = 30_000) {}

  get down(): boolean {
    return this.#since !== null;
  }

  /** The open outage's last reason and age, or null while up (readiness answers from it without waiting). */
  current(now: number): { reason: string; ageMs: number } | null {
    return this.#since === null ? null : { reason: this.#reason, ageMs: now - this.#since };
  }

  /** A failure; a notice only when it opens the outage. */
  fail(reason: string, now: number): OutageNotice | null {
    this.#reason = reason;
    if (this.#since !== null) return null;
    this.#since = now;
    this.#lastNotice = now;
    return { kind: 'down', reason };
  }

  /** A success; a notice only when it closes an outage. */
  recover(now: number): OutageNotice | null {
    if (this.#since === null) return null;
    const durationMs = now - this.#since;
    this.#since = null;
    return { kind: 'up', durationMs };
  }

  /** Called periodically: a reminder at most every `remindEveryMs` while the outage lasts. */
  tick(now: number): OutageNotice | null {
    if (this.#since === null || now - this.#lastNotice < this.remindEveryMs) return null;
    this.#lastNotice = now;
    return { kind: 'reminder', reason: this.#reason, ageMs: now - this.#since };
  }
}
