/** Worker-thread host of the CreatifySimulator, so serving the list endpoint does not share the poller's event loop. */
import { parentPort, workerData } from 'node:worker_threads';
import type { Lipsync } from '../src/creatify/schema.js';
import { CreatifySimulator } from '../src/simulator/server.js';

const port = parentPort;
if (port === null) throw new Error('simulator-worker must run in a worker thread');
const { seed, rateLimitPerSecond } = workerData as { seed: number; rateLimitPerSecond?: number };
const simulator = new CreatifySimulator({ seed, maxRecordedRequests: 100, ...(rateLimitPerSecond === undefined ? {} : { rateLimitPerSecond }) });

port.on('message', (message: unknown) => {
  const msg = message as { kind?: string; seq?: number; ids?: string[]; fields?: Partial<Lipsync> };
  if (msg.kind === 'set') {
    const at: number[] = [];
    for (const id of msg.ids ?? []) {
      simulator.set(id, msg.fields ?? {});
      at.push(Date.now());
    }
    port.postMessage({ kind: 'setDone', seq: msg.seq, at });
  } else if (msg.kind === 'stop') {
    void simulator.stop().then(() => {
      port.postMessage({ kind: 'stopped' });
      port.close();
    });
  }
});

void simulator.start().then((url) => port.postMessage({ kind: 'listening', url }));
