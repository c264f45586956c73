/**
 * `run()` or a rejection with `message` after `ms`. Used where a hung Redis must not hang a caller
 * (readiness, metrics scrapes, start-up). The timer is unref'd and always cleared.
 */
export async function withTimeout<T>(run: () => Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
    timer.unref();
  });
  try {
    // The async wrapper turns a synchronous throw from `run` into a rejection.
    return await Promise.race([(async () => run())(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
