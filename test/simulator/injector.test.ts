import { describe, expect, it } from '@jest/globals';
import { ITEM_FAULTS } from '../../src/simulator/faults.js';
import { FaultInjector, checkDrift } from '../../src/simulator/injector.js';

const A = '3c90c3cc-0d44-4b50-8888-8dd25736052a';

function answerFaults(injector: FaultInjector, n: number): Array<string | undefined> {
  return Array.from({ length: n }, () => injector.answerFault());
}

describe('FaultInjector', () => {
  it('draws nothing with every rate at 0', () => {
    const injector = new FaultInjector({ seed: 1 });
    expect(answerFaults(injector, 100).every((f) => f === undefined)).toBe(true);
    expect(injector.serverError()).toBeUndefined();
    expect(injector.itemMutations(A)).toEqual([]);
    expect(injector.listFaults()).toEqual([]);
    expect(injector.requeues(A)).toBe(false);
  });

  it('hits about the configured fraction of answers, the same ones for the same seed', () => {
    const drift = { badGateway: 0.2, emptyArray: 0.1 };
    const a = answerFaults(new FaultInjector({ seed: 3, drift }), 2000);
    const b = answerFaults(new FaultInjector({ seed: 3, drift }), 2000);
    const c = answerFaults(new FaultInjector({ seed: 4, drift }), 2000);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const share = (name: string): number => a.filter((f) => f === name).length / a.length;
    expect(share('badGateway')).toBeGreaterThan(0.15);
    expect(share('badGateway')).toBeLessThan(0.25);
    expect(share('emptyArray')).toBeGreaterThan(0.06);
    expect(share('emptyArray')).toBeLessThan(0.14);
  });

  it('an item fault at rate 1 hits every item; forced per id, only that id', () => {
    const all = new FaultInjector({ seed: 1, drift: { nullMedia: 1 } });
    expect(all.itemMutations(A)).toEqual([ITEM_FAULTS.nullMedia]);
    const one = new FaultInjector({ seed: 1 });
    one.force(A, 'missingStatus');
    expect(one.itemMutations(A)).toEqual([ITEM_FAULTS.missingStatus]);
    expect(one.itemMutations('11111111-2222-4333-8444-555555555555')).toEqual([]);
    one.forget(A);
    expect(one.itemMutations(A)).toEqual([]);
  });

  it('chooses requeue per id from seed and id, whatever the order of asking', () => {
    const ids = Array.from({ length: 400 }, (_, i) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`);
    const forward = new FaultInjector({ seed: 9, drift: { requeue: 0.3 } });
    const backward = new FaultInjector({ seed: 9, drift: { requeue: 0.3 } });
    const chosen = ids.filter((id) => forward.requeues(id));
    expect([...ids].reverse().filter((id) => backward.requeues(id)).reverse()).toEqual(chosen);
    expect(chosen.length / ids.length).toBeGreaterThan(0.2);
    expect(chosen.length / ids.length).toBeLessThan(0.4);
  });

  it('setDrift switches faults on and off at run time', () => {
    const injector = new FaultInjector({ seed: 1 });
    injector.setDrift({ rateLimited: 1 });
    expect(injector.answerFault()).toBe('rateLimited');
    injector.setDrift({});
    expect(injector.answerFault()).toBeUndefined();
  });

  it('serves enqueued responses FIFO and adds a JSON content type only to a body without one', () => {
    const injector = new FaultInjector({ seed: 1 });
    injector.enqueue({ status: 503 });
    injector.enqueue({ status: 200, body: '[]' });
    expect(injector.takeForced()).toEqual({ status: 503, headers: {}, body: '' });
    expect(injector.takeForced()).toEqual({ status: 200, headers: { 'content-type': 'application/json' }, body: '[]' });
    expect(injector.takeForced()).toBeUndefined();
  });

  it('refuses unknown faults, rates outside 0..1 and answer faults summing above 1, naming the knob', () => {
    expect(() => checkDrift({ bogus: 0.1 } as never)).toThrow(/drift\.bogus is not a fault/);
    expect(() => checkDrift({ nullMedia: 1.5 })).toThrow(/drift\.nullMedia must be within 0\.\.1/);
    expect(() => checkDrift({ badGateway: 0.6, emptyArray: 0.6 })).toThrow(/sum to at most 1/);
    expect(() => new FaultInjector({ seed: 1, errorRate: 2 })).toThrow(/errorRate/);
    expect(() => new FaultInjector({ seed: 1, retryAfterSeconds: -1 })).toThrow(/retryAfterSeconds/);
  });
});
