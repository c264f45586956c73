import { Closers } from '../../src/runtime/closers.js';

describe('Closers', () => {
  it('closes last opened first and reports nothing abandoned when all finish in time', async () => {
    const order: string[] = [];
    const closers = new Closers();
    for (const name of ['redis', 'queue', 'http']) closers.push({ name, close: async () => order.push(name) });
    expect(await closers.closeAll(1000)).toEqual({ abandoned: [] });
    expect(order).toEqual(['http', 'queue', 'redis']);
  });

  it('forces the closer that overruns the grace and every one after it, and names them', async () => {
    const forced: string[] = [];
    const closers = new Closers();
    closers.push({ name: 'redis', close: async () => undefined, force: () => forced.push('redis') });
    closers.push({ name: 'worker', close: () => new Promise(() => undefined), force: () => forced.push('worker') });
    closers.push({ name: 'http', close: async () => undefined, force: () => forced.push('http') });
    const started = Date.now();
    expect(await closers.closeAll(200)).toEqual({ abandoned: ['worker', 'redis'] });
    expect(forced).toEqual(['worker', 'redis']);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('treats a failing close as finished and unwinds each closer once', async () => {
    let closes = 0;
    const closers = new Closers();
    closers.push({ name: 'x', close: async () => { closes += 1; throw new Error('boom'); } });
    expect(await closers.closeAll(100)).toEqual({ abandoned: [] });
    expect(await closers.closeAll(100)).toEqual({ abandoned: [] });
    expect(closes).toBe(1);
  });
});
