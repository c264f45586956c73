import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Starts a TypeScript module in a worker thread. Under tsx on Node 20 the loader hooks do not reach workers
 * through execArgv, so a tiny eval bootstrap registers tsx's ESM API inside the worker first.
 */
export function startTsWorker(moduleUrl: URL, workerData: unknown): Worker {
  const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(moduleUrl.href)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

/** Resolves with the first message matching `accept`, rejects on worker error/exit or after `timeoutMs`. */
export function nextMessage<T>(worker: Worker, accept: (message: unknown) => message is T, timeoutMs = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (message: unknown): void => {
      if (!accept(message)) return;
      cleanup();
      resolve(message);
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new Error(`worker exited with code ${code}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no answer from the worker within ${timeoutMs} ms`));
    }, timeoutMs);
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

export function isKind<K extends string>(kind: K) {
  return (message: unknown): message is { kind: K } & Record<string, unknown> =>
    typeof message === 'object' && message !== null && (message as { kind?: unknown }).kind === kind;
}
