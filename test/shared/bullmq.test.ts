import { limiterFor } from '../../src/shared/bullmq.js';

describe('limiterFor', () => {
  it('spaces jobs 1000 / rate ms apart, so no sliding second holds more than the rate', () => {
    expect(limiterFor(5)).toEqual({ max: 1, duration: 200 });
    expect(limiterFor(50)).toEqual({ max: 1, duration: 20 });
  });

  it('rounds the spacing up, never above the rate', () => {
    expect(limiterFor(7.9)).toEqual({ max: 1, duration: 127 });
    expect(limiterFor(3)).toEqual({ max: 1, duration: 334 });
  });

  it('stretches the spacing for rates below one per second instead of rounding them up', () => {
    expect(limiterFor(0.5)).toEqual({ max: 1, duration: 2000 });
    expect(limiterFor(0.25)).toEqual({ max: 1, duration: 4000 });
  });
});
