import { evaluateReadiness, type NamedCheck } from '../../src/runtime/readiness.js';

const passing = (name: string): NamedCheck => ({ name, check: async () => ({ ok: true }) });

describe('evaluateReadiness', () => {
  it('runs the checks in order and is ready when every blocking one passes', async () => {
    const result = await evaluateReadiness([passing('redis'), { name: 'answers', check: async () => ({ ok: false, blocking: false, detail: '2 unreadable' }) }, { name: 'redis_data', check: async () => null }]);
    expect(result).toEqual({ ready: true, checks: { redis: { ok: true }, answers: { ok: false, blocking: false, detail: '2 unreadable' } } });
    expect(Object.keys(result.checks)).toEqual(['redis', 'answers']);
  });

  it('stops at a failed gate: the checks after it would only repeat its outage', async () => {
    let ran = false;
    const result = await evaluateReadiness([
      { name: 'redis', gate: true, check: async () => ({ ok: false, detail: 'unreachable at redis://127.0.0.1:6379/ for 4 s (ECONNREFUSED)' }) },
      { name: 'scheduler', check: async () => ((ran = true), { ok: true }) },
    ]);
    expect(result).toEqual({ ready: false, checks: { redis: { ok: false, detail: 'unreachable at redis://127.0.0.1:6379/ for 4 s (ECONNREFUSED)' } } });
    expect(ran).toBe(false);
  });

  it('reports a check that throws as failed, with the error as its detail', async () => {
    const result = await evaluateReadiness([{ name: 'scheduler', check: async () => Promise.reject(new Error('Connection is closed.')) }, passing('poll')]);
    expect(result).toEqual({ ready: false, checks: { scheduler: { ok: false, detail: 'Connection is closed.' }, poll: { ok: true } } });
  });
});
