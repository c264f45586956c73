import { describe, expect, it } from '@jest/globals';
import { RequestRecorder } from '../../src/simulator/recorder.js';

describe('RequestRecorder', () => {
  it('records ids as sent, null without the parameter, [] for an empty one', () => {
    const recorder = new RequestRecorder(10);
    const entry = recorder.record('A,b', { 'x-api-id': 'me' }, 5);
    recorder.record(null, {}, 6);
    recorder.record('', {}, 7);
    expect(recorder.requests.map((r) => r.ids)).toEqual([['A', 'b'], null, []]);
    expect(entry).toMatchObject({ at: 5, status: 0, headers: { 'x-api-id': 'me' } });
  });

  it('keeps at most max (+10 % slack), newest last', () => {
    const recorder = new RequestRecorder(10);
    for (let i = 0; i < 30; i++) recorder.record(String(i), {}, i);
    expect(recorder.requests.length).toBeGreaterThanOrEqual(10);
    expect(recorder.requests.length).toBeLessThanOrEqual(11);
    expect(recorder.requests.at(-1)?.ids).toEqual(['29']);
  });

  it('names the ids asked more than once, case-insensitively', () => {
    const recorder = new RequestRecorder(10);
    recorder.record('a,b', {}, 1);
    recorder.record('c,B', {}, 2);
    recorder.record(null, {}, 3);
    expect(recorder.idsAskedTwice()).toEqual(['b']);
    expect(recorder.idsAskedTwice(recorder.requests.slice(0, 1))).toEqual([]);
  });

  it('reset empties the list in place', () => {
    const recorder = new RequestRecorder(10);
    const held = recorder.requests;
    recorder.record('a', {}, 1);
    recorder.reset();
    expect(held).toHaveLength(0);
  });
});
