import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChangeEvent } from '../../src/events/types.js';
import { verifyWebhook } from '../../src/webhooks/verify.js';
import { WebhookReceiver } from '../helpers/receiver.js';
import { REDIS_URL, waitUntil } from '../helpers/redis.js';
import { lipsyncEvents, PipelineHarness, SECRET_A, sleep, webhookId } from './fixtures/pipeline-harness.js';

const CHILD = fileURLToPath(new URL('./fixtures/delivery-child.ts', import.meta.url));
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

/** `node --import tsx` runs the fixture in this very process (npx tsx would fork, and SIGKILL would miss the child). */
async function startChild(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: process.cwd(),
    env: { ...process.env, NODE_OPTIONS: '', REDIS_URL, CHILD_PREFIX: h.prefix, CHILD_ENDPOINTS: JSON.stringify([{ name: 'a', url: `${receiver.url}/a`, secret: SECRET_A }]) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  child.stderr?.on('data', (chunk: Buffer) => childLogs.push(chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child not ready within 10 s: ${childLogs.join('')}`)), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited with ${code} before ready: ${childLogs.join('')}`));
    });
  });
  return child;
}

function exited(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
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
