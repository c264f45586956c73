import { chunk } from '../../src/shared/chunk.js';

describe('chunk', () => {
  it('chunks 250 ids into 100, 100, 50', () => {
    expect(chunk(Array.from({ length: 250 }, (_, i) => i), 100).map((b) => b.length)).toEqual([100, 100, 50]);
    expect(chunk([], 100)).toEqual([]);
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => chunk([1], 0)).toThrow(RangeError);
    expect(() => chunk([1], 1.5)).toThrow(/positive integer, got 1.5/);
  });
});
