/**
 * The simulator's own rate limit, like Creatify's: at most `limit` admitted requests in any sliding 1 s window
 * of the injected clock. Refused requests do not count. O(1) amortised per request.
 */
export const WINDOW_MS = 1000;

export class RateWindow {
  /** Admitted request times; `head` avoids shifting the array each request. */
  private times: number[] = [];
  private head = 0;

  constructor(private readonly limit: number) {
    if (!(limit > 0)) throw new RangeError('rateLimitPerSecond must be > 0');
  }

  /** True (and counted) when a request at `now` fits in the window, false when it must be refused. */
  admit(now: number): boolean {
    while (this.head < this.times.length && (this.times[this.head] ?? now) <= now - WINDOW_MS) this.head++;
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    if (this.times.length - this.head >= this.limit) return false;
    this.times.push(now);
    return true;
  }

  reset(): void {
    this.times = [];
    this.head = 0;
  }
}
