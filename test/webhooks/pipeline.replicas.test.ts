import type { ChildProcess } from 'node:child_process';
import { childTestContext, exited } from './fixtures/child-pipeline.js';
import { lipsyncEvents, SECRET_A, webhookId } from './fixtures/pipeline-harness.js';

const t = childTestContext('replicas');

it('delivers bursts in data.sequence order per lipsync and endpoint while 3 replica processes dispatch at once', async () => {
  const endpoints = ['a', 'b'].map((name) => ({ name, url: `${t.receiver.url}/${name}`, secret: SECRET_A }));
  // Small reads so consecutive events of one lipsync land on different processes.
  const children: ChildProcess[] = [];
  for (let i = 0; i < 3; i += 1) children.push(await t.start(endpoints, 2));
  t.receiver.handler = () => ({ status: 200, delayMs: Math.floor(Math.random() * 5) });
  const lipsyncs = Array.from({ length: 15 }, () => lipsyncEvents(6));
  // Three bursts, each two changes of every lipsync, interleaved across lipsyncs as one poll cycle appends them.
  for (let burst = 0; burst < 3; burst += 1) {
    await t.h.append(lipsyncs.flatMap((events) => events.slice(burst * 2, burst * 2 + 2)));
  }
  const total = lipsyncs.length * 6 * endpoints.length;
  await t.receiver.waitFor(total, 20_000);

  for (const events of lipsyncs) {
    const ids = events.map((e) => e.id);
    for (const { name } of endpoints) {
      const got = t.receiver.requests.filter((r) => r.url === `/${name}` && ids.includes(webhookId(r)));
      const sequences = got.map((r) => (JSON.parse(r.body) as { data: { sequence: number } }).data.sequence);
      expect(sequences).toEqual(events.map((e) => e.data.sequence));
      expect(got.map(webhookId)).toEqual(ids);
    }
  }
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((child) => exited(child, 5000)));
  expect(await t.h.redis.xlen(t.h.keys.events)).toBe(0);
}, 40_000);
