import { decodeOrigin, encodeOrigin, estimateCompletion, progressFraction } from '../../src/shared/progress.js';

describe('progressFraction', () => {
  it.each([
    ['0.5', 0.5],
    ['1', 1],
    ['0', 0],
    ['50', 0.5],
    ['100', 1],
    ['42%', 0.42],
    [' .25 ', 0.25],
  ])('reads %j as %d', (raw, expected) => {
    expect(progressFraction(raw)).toBeCloseTo(expected);
  });

  it.each([null, '', 'half', '-0.2', '150', '1e3', 'NaN'])('does not parse %j', (raw) => {
    expect(progressFraction(raw)).toBeNull();
  });
});

describe('estimateCompletion', () => {
  const origin = { fraction: 0.2, atMs: 10_000 };

  it('extrapolates linearly from the first reading of the run to the latest one', () => {
    // 0.2 → 0.6 in 20 s: 0.4 left takes another 20 s.
    expect(estimateCompletion(origin, 0.6, 30_000)).toBe(50_000);
  });

  it('gives none without two distinct forward readings, or once complete', () => {
    expect(estimateCompletion(null, 0.6, 30_000)).toBeNull();
    expect(estimateCompletion(origin, 0.2, 30_000)).toBeNull();
    expect(estimateCompletion(origin, 0.1, 30_000)).toBeNull();
    expect(estimateCompletion(origin, null, 30_000)).toBeNull();
    expect(estimateCompletion(origin, 1, 30_000)).toBeNull();
    expect(estimateCompletion(origin, 0.5, 10_000)).toBeNull();
  });

  it('stores the origin as one string and reads it back, refusing garbage', () => {
    expect(decodeOrigin(encodeOrigin(origin))).toEqual(origin);
    expect(decodeOrigin('x@y')).toBeNull();
    expect(decodeOrigin(null)).toBeNull();
  });
});
