/**
 * One stack of closers for everything a process opens, pushed as each resource opens and unwound in reverse by
 * both a normal stop and a failed start. The unwind is bounded: each closer gets what is left of the grace
 * period; when it runs out, every closer not yet finished is forced (connections dropped, workers abandoned) and
 * named, so the caller can log what was abandoned and exit 1. Abandoned work is what BullMQ's stalled-job
 * check and the events stream's pending entries retry, so nothing is lost by forcing.
 */
export interface Closer {
  name: string;
  /** Graceful close; may wait for in-flight work. */
  close: () => Promise<unknown>;
  /** Immediate, synchronous release (e.g. `disconnect()`); called when the grace ran out. */
  force?: () => void;
}

export interface CloseResult {
  /** Names of closers that did not finish within the grace and were forced. */
  abandoned: string[];
}

export class Closers {
  readonly #stack: Closer[] = [];

  push(closer: Closer): void {
    this.#stack.push(closer);
  }

  /** Unwinds the stack, last opened first, within `graceMs` in total. Never rejects. */
  async closeAll(graceMs: number): Promise<CloseResult> {
    const deadline = Date.now() + graceMs;
    const abandoned: string[] = [];
    const pending = this.#stack.splice(0).reverse();
    for (const [index, closer] of pending.entries()) {
      const left = deadline - Date.now();
      const finished = left > 0 && (await settleWithin(closer.close(), left));
      if (finished) continue;
      // Out of time: force this one and every one after it, without waiting any further.
      for (const rest of pending.slice(index)) {
        abandoned.push(rest.name);
        try {
          rest.force?.();
        } catch {
          // Forcing is best effort; the process is about to exit.
        }
      }
      break;
    }
    return { abandoned };
  }
}

/** True when `work` settled (either way) within `ms`. */
async function settleWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = work.then(
    () => true as const,
    () => true as const,
  );
  const result = await Promise.race([settled, timeout]);
  clearTimeout(timer);
  return result;
}
