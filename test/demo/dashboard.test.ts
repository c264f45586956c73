import { LiveScreen, renderDashboard, startDashboard, type DashboardSample } from '../../src/demo/dashboard.js';
import { waitUntil } from '../helpers/redis.js';

const T0 = 1_000_000;

function sample(at: number, received: Record<string, number>, pending: Record<string, number> = { running: 3, new: 2, weird: 1 }): DashboardSample {
  return { at, pending, stalled: 1, deadLetters: 4, received };
}

describe('renderDashboard', () => {
  it('shows pending by status in lifecycle order, webhooks with their rate, stalled, dead letters and the page URL', () => {
    const before = sample(T0, { 'lipsync.tracked': 10 });
    const now = sample(T0 + 2000, { 'lipsync.completed': 2, 'lipsync.tracked': 10, 'lipsync.status_changed': 8 });
    const lines = renderDashboard(now, before, { startedAt: T0 - 4000, statusUrl: 'http://127.0.0.1:9464/' });
    expect(lines).toHaveLength(4);
    expect(lines[0]).toContain('6 s · status page http://127.0.0.1:9464/');
    expect(lines[1]).toMatch(/6 pending\s+new 2 · running 3 · weird 1$/);
    expect(lines[2]).toMatch(/20 received\s+5\.0 events\/s · tracked 10 · status_changed 8 · completed 2$/);
    expect(lines[3]).toMatch(/1\s+dead letters 4$/);
  });

  it('has no rate before a second sample and a dash for nothing', () => {
    const lines = renderDashboard(sample(T0, {}, {}), null, { startedAt: T0, statusUrl: null });
    expect(lines[0]).toContain('(HTTP disabled)');
    expect(lines[1]).toMatch(/0 pending\s+—$/);
    expect(lines[2]).toMatch(/0\.0 events\/s · —$/);
  });
});

describe('startDashboard', () => {
  function run(redraw: boolean, failFirst = false) {
    const writes: string[] = [];
    const errors: unknown[] = [];
    let calls = 0;
    const dashboard = startDashboard({
      sample: async () => {
        calls += 1;
        if (failFirst && calls === 1) throw new Error('redis down');
        return sample(Date.now(), { 'lipsync.tracked': calls });
      },
      screen: new LiveScreen((text) => writes.push(text), redraw),
      intervalMs: 10,
      statusUrl: null,
      onError: (err) => errors.push(err),
    });
    return { writes, errors, dashboard };
  }

  it('on a terminal, replaces the previous frame in place', async () => {
    const { writes, dashboard } = run(true);
    await waitUntil(() => writes.length >= 2, 'two frames');
    await dashboard.stop();
    expect(writes[0]?.startsWith('\x1b')).toBe(false);
    expect(writes[1]?.startsWith('\x1b[4F\x1b[J')).toBe(true);
  });

  it('elsewhere, appends frames separated by a blank line, and stop() writes a last one', async () => {
    const { writes, dashboard } = run(false);
    await waitUntil(() => writes.length >= 1, 'a frame');
    const before = writes.length;
    await dashboard.stop();
    expect(writes.length).toBe(before + 1);
    expect(writes.every((w) => !w.includes('\x1b') && w.endsWith('\n\n'))).toBe(true);
  });

  it('prints log lines above the frame on a terminal, and drew the frame again below them', () => {
    const writes: string[] = [];
    const screen = new LiveScreen((text) => writes.push(text), true);
    screen.print('before any frame\n');
    screen.showFrame(['a', 'b']);
    screen.print('WARN something\n');
    expect(writes).toEqual(['before any frame\n', 'a\nb\n', '\x1b[2F\x1b[JWARN something\na\nb\n']);
    screen.stream().write('from the logger\n');
    expect(writes.at(-1)).toBe('\x1b[2F\x1b[Jfrom the logger\na\nb\n');
  });

  it('cuts redrawn lines to the terminal width, so none wraps', () => {
    const writes: string[] = [];
    new LiveScreen((text) => writes.push(text), true, () => 31).showFrame(['x'.repeat(50), 'short']);
    expect(writes).toEqual([`${'x'.repeat(30)}\nshort\n`]);
  });

  it('reports a failed sample and keeps going', async () => {
    const { writes, errors, dashboard } = run(false, true);
    await waitUntil(() => writes.length >= 1, 'a frame after the failure');
    await dashboard.stop();
    expect(errors).toEqual([new Error('redis down')]);
  });
});
