import { limiterFor } from '../../src/shared/bullmq.js';

describe('limiterFor', () => {
  it('maps whole rates to max per second', () => {
    expect(limiterFor(5)).toEqual({ max: 5, duration: 1000 });
    expect(limiterFor(7.9)).toEqual({ max: 7, duration: 1000 });
  });

  it('stretches the window for rates below one per second instead of rounding them up', () => {
    expect(limiterFor(0.5)).toEqual({ max: 1, duration: 2000 });
    expect(limiterFor(0.25)).toEqual({ max: 1, duration: 4000 });
  });
});
