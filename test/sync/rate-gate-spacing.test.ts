import { slotSpacingMs } from '../../src/sync/rate-gate.js';

describe('slotSpacingMs', () => {
  it('spaces request slots 5 % wider than 1000 / rate ms, so no sliding second holds more than the rate', () => {
    expect(slotSpacingMs(5)).toBe(210);
    expect(slotSpacingMs(50)).toBe(21);
  });

  it('rounds the spacing up, never above the rate', () => {
    expect(slotSpacingMs(7.9)).toBe(133);
    expect(slotSpacingMs(3)).toBe(350);
  });

  it('stretches the spacing for rates below one per second instead of rounding them up', () => {
    expect(slotSpacingMs(0.5)).toBe(2100);
    expect(slotSpacingMs(0.25)).toBe(4200);
  });
});
