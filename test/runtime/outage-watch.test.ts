import { Writable } from 'node:stream';
import { pino } from 'pino';
import { watchCreatify } from '../../src/runtime/outage-watch.js';

function capture(): { logger: pino.Logger; lines: () => Array<{ level: number; msg: string; reason?: string }> } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines: () => out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string; reason?: string }) };
}

describe('watchCreatify', () => {
  it('opens an outage at a network error or a refused key, and after three 5xx in a row; closes it at the next 2xx', () => {
    const { logger, lines } = capture();
    const states: boolean[] = [];
    const watch = watchCreatify({ baseUrl: 'http://127.0.0.1:1', logger, setUp: (up) => states.push(up) });
    try {
      for (const code of ['200', '500', '502', '200', '500', '503', '504', '500', '500', '200', '401', '401', '200', 'timeout', '429', '200']) watch.attempt(code);
      const told = lines().map((l) => [l.level, l.msg, l.reason ?? '']);
      expect(told).toEqual([
        [50, 'Creatify unreachable; retrying until it is back', '3 answers in a row with HTTP 5xx (last 504)'],
        [30, 'Creatify is back', ''],
        [50, 'Creatify unreachable; retrying until it is back', 'HTTP 401: check CREATIFY_API_ID and CREATIFY_API_KEY'],
        [30, 'Creatify is back', ''],
        [50, 'Creatify unreachable; retrying until it is back', 'timeout'],
        [30, 'Creatify is back', ''],
      ]);
      expect(states).toEqual([true, false, true, false, true, false, true]);
    } finally {
      watch.stop();
    }
  });
});
