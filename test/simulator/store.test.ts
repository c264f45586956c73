import { describe, expect, it } from '@jest/globals';
import { LipsyncStore } from '../../src/simulator/store.js';
import { createRng } from '../../src/simulator/timeline.js';

const A = '3c90c3cc-0d44-4b50-8888-8dd25736052a';
const B = '11111111-2222-4333-8444-555555555555';

function storeAt(clock: { t: number }, reshape?: ConstructorParameters<typeof LipsyncStore>[0]['reshapeSteps']): LipsyncStore {
  return new LipsyncStore({ now: () => clock.t, stepMs: 100, rng: createRng(1), ...(reshape ? { reshapeSteps: reshape } : {}) });
}

describe('LipsyncStore', () => {
  it('looks up asked ids case-insensitively, once each, newest first; unknown ones only with autoCreate', () => {
    const clock = { t: Date.UTC(2026, 0, 1) };
    const store = storeAt(clock);
    store.set(A);
    clock.t += 1000;
    store.set(B);
    expect(store.lookup([A.toUpperCase(), B, A], false).map((e) => e.id)).toEqual([B, A]);
    const unknown = '00000000-0000-4000-8000-000000000001';
    expect(store.lookup([unknown], false)).toEqual([]);
    expect(store.lookup([unknown], true).map((e) => e.id)).toEqual([unknown]);
    expect(store.newest(2).map((e) => e.id)).toEqual([unknown, B]);
  });

  it('caches an entry\'s JSON per timeline step and re-renders when the step changes', () => {
    const clock = { t: Date.UTC(2026, 0, 1) };
    const store = storeAt(clock);
    const [id] = store.addRandom(1);
    const [entry] = store.lookup([id ?? ''], false);
    if (entry === undefined) throw new Error('no entry');
    const first = store.json(entry, clock.t);
    expect(store.json(entry, clock.t)).toBe(first);
    clock.t += 10_000;
    const later = store.json(entry, clock.t);
    expect(JSON.parse(later)).toEqual(store.render(entry, clock.t));
    expect(later).not.toBe(first);
  });

  it('passes new timelines through reshapeSteps, with the id', () => {
    const seen: string[] = [];
    const store = storeAt({ t: 0 }, (id, steps) => {
      seen.push(id);
      return steps.slice(0, 1);
    });
    const ids = store.addRandom(2);
    expect(seen).toEqual(ids);
    expect(store.get(ids[0] ?? '')?.status).toBe('pending');
  });

  it('refuses a non-UUID in set, and get answers undefined for one', () => {
    const store = storeAt({ t: 0 });
    expect(() => store.set('nope')).toThrow(TypeError);
    expect(store.get('nope')).toBeUndefined();
  });
});
