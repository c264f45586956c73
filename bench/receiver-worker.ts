/** Worker-thread side of BenchReceiver: the HTTP receiver on its own event loop (and core). */
import { parentPort, workerData } from 'node:worker_threads';
import { close, createReceiverServer, listen, resetCounts, zeroCounts, type ReceivedRecord, type ReceiverConfig } from './receiver-core.js';

const port = parentPort;
if (port === null) throw new Error('receiver-worker must run in a worker thread');
const config = workerData as ReceiverConfig;

const counts = zeroCounts();
let pending: ReceivedRecord[] = [];
const server = createReceiverServer(config, counts, (record) => pending.push(record));

function flush(): void {
  if (pending.length === 0 && counts.requests === 0 && counts.verified === 0 && counts.verifyFailed === 0) return;
  port?.postMessage({ kind: 'batch', records: pending, counts });
  pending = [];
  // Deltas: the main thread sums them. The server holds this object, so it is reset in place.
  resetCounts(counts);
}

const timer = setInterval(flush, 10);

port.on('message', (message: unknown) => {
  const msg = message as { kind?: string; seq?: number };
  if (msg.kind === 'flush') {
    flush();
    port.postMessage({ kind: 'flushed', seq: msg.seq });
  } else if (msg.kind === 'stop') {
    clearInterval(timer);
    flush();
    void close(server).then(() => {
      port.postMessage({ kind: 'stopped' });
      port.close();
    });
  }
});

void listen(server).then((url) => port.postMessage({ kind: 'listening', url }));
