/**
 * The simulator's answer time must not grow with the number of lipsyncs it stores (a lookup per asked id, no
 * scan): the same bursts against a store of 1 and of 20,000, compared. A timing, so it lives here and not in
 * the unit tests.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { CreatifySimulator } from '../src/simulator/server.js';
import { uuidFor } from './env.js';
import { fmt, line, note, rate, section } from './stats.js';

const STORED = 20_000;
const REQUESTS = 400;
const ROUNDS = 3;
const A = '3c90c3cc-0d44-4b50-8888-8dd25736052a';

export async function benchSimulator(): Promise<void> {
  section(`7. simulator answer time against store size (${fmt(REQUESTS)} requests of 100 ids, 1 vs ${fmt(STORED)} stored)`);
  const small = new CreatifySimulator({ seed: 9 });
  const large = new CreatifySimulator({ seed: 9 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
  try {
    await Promise.all([small.start(), large.start()]);
    large.addRandom(STORED);
    // One known id plus 99 unknown: tiny answers keep client-side cost low, so server-side work dominates.
    const ask = (known: string): string[] => [known, ...Array.from({ length: 99 }, (_, i) => uuidFor(i, 0x7000))];
    const smallIds = ask(small.set(A).id);
    const largeIds = ask(large.set(A).id);
    const burst = async (sim: CreatifySimulator, ids: string[]): Promise<number> => {
      const url = `${sim.baseUrl}/api/lipsyncs_v2/?ids=${ids.join(',')}`;
      const t0 = performance.now();
      const statuses = await Promise.all(
        Array.from(
          { length: REQUESTS },
          () =>
            new Promise<number>((resolve, reject) => {
              http
                .get(url, { agent }, (res) => {
                  res.resume();
                  res.on('end', () => resolve(res.statusCode ?? 0));
                })
                .on('error', reject);
            }),
        ),
      );
      if (!statuses.every((s) => s === 200)) throw new Error(`simulator answered ${statuses.find((s) => s !== 200)}`);
      return performance.now() - t0;
    };
    // Alternate and keep the best round of each, so load from other processes hits both sides alike.
    let bestSmall = Infinity;
    let bestLarge = Infinity;
    for (let round = 0; round < ROUNDS; round++) {
      bestSmall = Math.min(bestSmall, await burst(small, smallIds));
      bestLarge = Math.min(bestLarge, await burst(large, largeIds));
    }
    line('answers/s, 1 lipsync stored', `${fmt(rate(REQUESTS, bestSmall))}/s`, `best of ${ROUNDS}: ${fmt(bestSmall)} ms`);
    line(`answers/s, ${fmt(STORED)} lipsyncs stored`, `${fmt(rate(REQUESTS, bestLarge))}/s`, `best of ${ROUNDS}: ${fmt(bestLarge)} ms`);
    line('large / small time ratio', fmt(bestLarge / bestSmall, 2), 'about 1 when no answer scans the store');
    note('a scan, sort or render of every stored lipsync per request would cost ms each and show as a ratio well above 2');
  } finally {
    agent.destroy();
    await Promise.all([small.stop(), large.stop()]);
  }
}
