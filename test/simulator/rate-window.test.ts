import { describe, expect, it } from '@jest/globals';
import { RateWindow } from '../../src/simulator/rate-window.js';

describe('RateWindow', () => {
  it('admits `limit` requests per sliding second; refused ones do not count', () => {
    const window = new RateWindow(3);
    const t = 1_000_000;
    expect([0, 10, 20, 30, 40].map((dt) => window.admit(t + dt))).toEqual([true, true, true, false, false]);
    // The first admitted request leaves the window 1000 ms after it was admitted, freeing one slot.
    expect(window.admit(t + 999)).toBe(false);
    expect(window.admit(t + 1000)).toBe(true);
    expect(window.admit(t + 1001)).toBe(false);
    expect(window.admit(t + 1010)).toBe(true);
  });

  it('stays correct over a long run (the admitted list is compacted)', () => {
    const window = new RateWindow(5);
    let admitted = 0;
    for (let ms = 0; ms < 10_000; ms += 10) if (window.admit(ms)) admitted++;
    expect(admitted).toBe(50);
  });

  it('reset forgets the window; a limit must be positive', () => {
    const window = new RateWindow(1);
    expect(window.admit(0)).toBe(true);
    window.reset();
    expect(window.admit(1)).toBe(true);
    expect(() => new RateWindow(0)).toThrow(/rateLimitPerSecond/);
  });
});
