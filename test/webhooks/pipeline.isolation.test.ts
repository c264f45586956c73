import type { ChangeEvent } from '../../src/events/types.js';
import type { WebhookEndpoint } from '../../src/webhooks/deliver.js';
import { waitUntil } from '../helpers/redis.js';
import { childTestContext, exited } from './fixtures/child-pipeline.js';
import { lipsyncEvents, SECRET_A, sleep, webhookId } from './fixtures/pipeline-harness.js';

const t = childTestContext('isolation');
const endpoint = (name: string, extra: Partial<WebhookEndpoint> = {}): WebhookEndpoint => ({ name, url: `${t.receiver.url}/${name}`, secret: SECRET_A, ...extra });
const requestsTo = (name: string) => t.receiver.requests.filter((r) => r.url === `/${name}`);

/**
 * Runs a pipeline process with `endpoints`, appends one-event lipsyncs in waves, and returns each delivery's
 * latency to the healthy endpoint (append → received), ms.
 */
async function healthyLatencies(endpoints: WebhookEndpoint[]): Promise<number[]> {
  const child = await t.start(endpoints);
  const appendedAt = new Map<string, number>();
  for (let wave = 0; wave < 10; wave += 1) {
    const events: ChangeEvent[] = Array.from({ length: 8 }, () => lipsyncEvents(1)[0]!);
    for (const ev of events) appendedAt.set(ev.id, Date.now());
    await t.h.append(events);
    await sleep(100);
  }
  await waitUntil(() => requestsTo('good').filter((r) => appendedAt.has(webhookId(r))).length >= appendedAt.size, 'every healthy delivery', 20_000);
  child.kill('SIGKILL');
  await exited(child, 5000);
  return requestsTo('good')
    .filter((r) => appendedAt.has(webhookId(r)))
    .map((r) => r.receivedAt - appendedAt.get(webhookId(r))!);
}

it('a hanging endpoint does not delay a healthy one: its p99 stays within 1 s of its p99 alone (real process and receiver)', async () => {
  t.receiver.handler = (req) => (req.url === '/hang' ? { status: 200, delayMs: 25_000 } : { status: 200 });
  const alone = p99(await healthyLatencies([endpoint('good')]));
  // Each hung request holds a slot for its whole 3 s timeout; with one shared pool of 4 it would take them all.
  const beside = p99(await healthyLatencies([endpoint('good'), endpoint('hang', { timeoutMs: 3000, maxAttempts: 50 })]));
  expect(requestsTo('hang').length).toBeGreaterThan(0);
  expect(beside).toBeLessThanOrEqual(alone + 1000);
}, 40_000);

function p99(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? Number.NaN;
}
