import type { ChildProcess } from 'node:child_process';
import type { ChangeEvent } from '../../src/events/types.js';
import { verifyWebhook } from '../../src/webhooks/verify.js';
import { WebhookReceiver } from '../helpers/receiver.js';
import { waitUntil } from '../helpers/redis.js';
import { exited, startChild as startChild_ } from './fixtures/child-pipeline.js';
import { lipsyncEvents, PipelineHarness, SECRET_A, sleep, webhookId } from './fixtures/pipeline-harness.js';

const ANSWER_AFTER_MS = 400;

let h: PipelineHarness;
let receiver: WebhookReceiver;
const children: ChildProcess[] = [];
const childLogs: string[] = [];

beforeAll(async () => {
  h = new PipelineHarness('crash');
  receiver = new WebhookReceiver();
  await receiver.start();
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await receiver.stop();
  await h.close();
});

function startChild(): Promise<ChildProcess> {
  return startChild_({ prefix: h.prefix, endpoints: [{ name: 'a', url: `${receiver.url}/a`, secret: SECRET_A }], logs: childLogs }).then((child) => {
    children.push(child);
    return child;
  });
}

it('loses no event when a delivering process is killed with SIGKILL; re-sent ones keep their webhook-id', async () => {
  const lipsyncs = [lipsyncEvents(3), lipsyncEvents(3), lipsyncEvents(3), lipsyncEvents(3)];
  const byId = new Map<string, ChangeEvent>(lipsyncs.flat().map((e) => [e.id, e]));
  /** webhook-id → times a 200 reached a live connection. */
  const answered: Array<{ id: string; at: number }> = [];
  receiver.handler = async (req, res) => {
    await sleep(ANSWER_AFTER_MS);
    if (res.destroyed) return; // the sender died while we were "working": not delivered
    res.writeHead(200);
    res.end();
    answered.push({ id: webhookId(req), at: Date.now() });
  };
  await h.append(lipsyncs.flat());

  const first = await startChild();
  // Kill mid-stream: some deliveries done, others in flight.
  await waitUntil(() => answered.length >= 4 && receiver.requests.length > answered.length, 'deliveries done and in flight', 10_000);
  first.kill('SIGKILL');
  const killedAt = Date.now();
  await exited(first, 5000);
  const answeredBeforeKill = new Set(answered.map((a) => a.id));
  const inFlight = [...new Set(receiver.requests.filter((r) => r.receivedAt <= killedAt).map(webhookId))].filter((id) => !answeredBeforeKill.has(id));
  expect(inFlight.length).toBeGreaterThan(0);
  expect(answeredBeforeKill.size).toBeGreaterThan(0);

  // Events appended while no process runs are picked up too.
  const late = lipsyncEvents(2);
  for (const e of late) byId.set(e.id, e);
  await h.append(late);

  const second = await startChild();
  await waitUntil(() => [...byId.keys()].every((id) => answered.some((a) => a.id === id)), 'every event delivered', 15_000);

  // The requests cut off by the kill were sent again, with the same webhook-id and a valid signature.
  const afterKill = receiver.requests.filter((r) => r.receivedAt > killedAt);
  for (const id of inFlight) expect(afterKill.map(webhookId)).toContain(id);
  for (const req of receiver.requests) {
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
  expect(await h.redis.xlen(h.keys.events)).toBe(0);
}, 30_000);
