import type { ChildProcess } from 'node:child_process';
import type { ChangeEvent } from '../../src/events/types.js';
import { verifyWebhook } from '../../src/webhooks/verify.js';
import { waitUntil } from '../helpers/redis.js';
import { childTestContext, exited } from './fixtures/child-pipeline.js';
import { lipsyncEvents, SECRET_A, sleep, webhookId } from './fixtures/pipeline-harness.js';

const ANSWER_AFTER_MS = 400;

const t = childTestContext('crash');
const startChild = (): Promise<ChildProcess> => t.start([{ name: 'a', url: `${t.receiver.url}/a`, secret: SECRET_A }]);

it('loses no event when a delivering process is killed with SIGKILL; re-sent ones keep their webhook-id', async () => {
  const lipsyncs = [lipsyncEvents(3), lipsyncEvents(3), lipsyncEvents(3), lipsyncEvents(3)];
  const byId = new Map<string, ChangeEvent>(lipsyncs.flat().map((e) => [e.id, e]));
  /** webhook-id → times a 200 reached a live connection. */
  const answered: Array<{ id: string; at: number }> = [];
  t.receiver.handler = async (req, res) => {
    await sleep(ANSWER_AFTER_MS);
    if (res.destroyed) return; // the sender died while we were "working": not delivered
    res.writeHead(200);
    res.end();
    answered.push({ id: webhookId(req), at: Date.now() });
  };
  await t.h.append(lipsyncs.flat());

  const first = await startChild();
  // Kill mid-stream: some deliveries done, others in flight.
  await waitUntil(() => answered.length >= 4 && t.receiver.requests.length > answered.length, 'deliveries done and in flight', 10_000);
  first.kill('SIGKILL');
  const killedAt = Date.now();
  await exited(first, 5000);
  const answeredBeforeKill = new Set(answered.map((a) => a.id));
  const inFlight = [...new Set(t.receiver.requests.filter((r) => r.receivedAt <= killedAt).map(webhookId))].filter((id) => !answeredBeforeKill.has(id));
  expect(inFlight.length).toBeGreaterThan(0);
  expect(answeredBeforeKill.size).toBeGreaterThan(0);

  // Events appended while no process runs are picked up too.
  const late = lipsyncEvents(2);
  for (const e of late) byId.set(e.id, e);
  await t.h.append(late);

  const second = await startChild();
  await waitUntil(() => [...byId.keys()].every((id) => answered.some((a) => a.id === id)), 'every event delivered', 15_000);

  // The requests cut off by the kill were sent again, with the same webhook-id and a valid signature.
  const afterKill = t.receiver.requests.filter((r) => r.receivedAt > killedAt);
  for (const id of inFlight) expect(afterKill.map(webhookId)).toContain(id);
  for (const req of t.receiver.requests) {
    const event = byId.get(webhookId(req));
    expect(event).toBeDefined();
    expect(req.body).toBe(JSON.stringify(event));
    expect(() => verifyWebhook({ secret: SECRET_A, headers: req.headers, body: req.body })).not.toThrow();
  }
  // Per lipsync, first successful deliveries happened in event order, crash or not.
  for (const events of [...lipsyncs, late]) {
    const ids = events.map((e) => e.id);
    const firstAnswers = [...new Set(answered.map((a) => a.id).filter((id) => ids.includes(id)))];
    expect(firstAnswers).toEqual(ids);
  }

  second.kill('SIGTERM');
  await exited(second, 5000);
  expect(await t.h.redis.xlen(t.h.keys.events)).toBe(0);
}, 30_000);
