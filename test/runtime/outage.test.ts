import { Outage } from '../../src/runtime/outage.js';

describe('Outage', () => {
  it('tells one story: down once, a reminder at most every period with the age, up once with the duration', () => {
    const outage = new Outage(30_000);
    expect(outage.tick(0)).toBeNull();
    expect(outage.fail('ECONNREFUSED', 1000)).toEqual({ kind: 'down', reason: 'ECONNREFUSED' });
    expect(outage.down).toBe(true);
    for (let t = 1100; t < 31_000; t += 100) expect(outage.fail('ECONNREFUSED', t) ?? outage.tick(t)).toBeNull();
    expect(outage.tick(31_000)).toEqual({ kind: 'reminder', reason: 'ECONNREFUSED', ageMs: 30_000 });
    expect(outage.tick(45_000)).toBeNull();
    expect(outage.fail('ETIMEDOUT', 50_000)).toBeNull();
    expect(outage.tick(61_000)).toEqual({ kind: 'reminder', reason: 'ETIMEDOUT', ageMs: 60_000 });
    expect(outage.recover(62_500)).toEqual({ kind: 'up', durationMs: 61_500 });
    expect(outage.recover(63_000)).toBeNull();
    expect(outage.tick(200_000)).toBeNull();
  });

  it('opens a new story for the next outage', () => {
    const outage = new Outage(10);
    outage.fail('a', 0);
    outage.recover(5);
    expect(outage.fail('b', 100)).toEqual({ kind: 'down', reason: 'b' });
  });

  it('describes the open outage (last reason, age) for readiness, and nothing while up', () => {
    const outage = new Outage();
    expect(outage.current(0)).toBeNull();
    outage.fail('ECONNREFUSED', 1000);
    outage.fail('connection closed', 2000);
    expect(outage.current(5000)).toEqual({ reason: 'connection closed', ageMs: 4000 });
    outage.recover(6000);
    expect(outage.current(7000)).toBeNull();
  });
});
