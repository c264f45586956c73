import { buildScript, expectedEvents, stepAt, terminalAt, TERMINAL, type ScriptedLipsync } from './script.js';

const OPTIONS = { seed: 7, count: 40, startMs: 1_000_000, holdMs: 12_000, spreadMs: 5000, short: true, requeueRate: 0.5 };

describe('buildScript', () => {
  it('is reproducible from its seed and holds every step at least holdMs', () => {
    const a = buildScript(OPTIONS);
    expect(buildScript(OPTIONS)).toEqual(a);
    for (const lipsync of a) {
      expect(lipsync.steps[0]?.at).toBe(OPTIONS.startMs);
      lipsync.steps.slice(1).forEach((step, i) => expect(step.at - (lipsync.steps[i]?.at ?? 0)).toBeGreaterThanOrEqual(OPTIONS.holdMs));
      expect(TERMINAL.has(lipsync.steps[lipsync.steps.length - 1]?.status ?? '')).toBe(true);
    }
  });

  it('requeues a job by repeating the in_queue → running transition', () => {
    const requeued = buildScript(OPTIONS).find((l) => l.requeued);
    expect(requeued).toBeDefined();
    const statuses = (requeued as ScriptedLipsync).steps.map((s) => s.status);
    expect(statuses.filter((s) => s === 'in_queue').length).toBeGreaterThanOrEqual(2);
    const toRunning = expectedEvents(requeued as ScriptedLipsync).filter((e) => e.type === 'lipsync.status_changed' && e.key.includes('|running|'));
    expect(new Set(toRunning.map((e) => e.key)).size).toBeLessThan(toRunning.length);
  });
});

describe('expectedEvents', () => {
  const at = (status: string, progress: string, failed_reason: string | null, t: number) => ({ status, progress, failed_reason, at: t });

  it('emits tracked first, then the most specific types per change, final ones marked', () => {
    const lipsync: ScriptedLipsync = { id: 'x', requeued: false, steps: [at('pending', '0', null, 0), at('running', '0.2', null, 1), at('running', '0.5', null, 2), at('failed', '0.5', 'face not detected', 3)] };
    expect(expectedEvents(lipsync).map((e) => [e.type, e.final])).toEqual([
      ['lipsync.tracked', false],
      ['lipsync.status_changed', false],
      ['lipsync.progress_changed', false],
      ['lipsync.status_changed', false],
      ['lipsync.failed', true],
    ]);
    expect(terminalAt(lipsync)).toBe(3);
    expect(stepAt(lipsync, 2.5).index).toBe(2);
  });

  it('emits nothing for a repeated identical step', () => {
    const lipsync: ScriptedLipsync = { id: 'x', requeued: false, steps: [at('in_queue', '0', null, 0), at('in_queue', '0', null, 1), at('done', '1', null, 2)] };
    expect(expectedEvents(lipsync).map((e) => e.type)).toEqual(['lipsync.tracked', 'lipsync.status_changed', 'lipsync.completed']);
  });
});
