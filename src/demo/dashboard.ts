/**
 * The demo's live view: every couple of seconds, one compact frame (pending by status, webhooks received and their
 * rate, stalled lipsyncs, dead letters, the status page URL) instead of a log line per webhook. Rendering is pure
 * (renderDashboard); startDashboard only samples and writes to a LiveScreen. On a terminal each frame replaces the
 * previous one and log lines are printed above the frame, which is drawn again below them; elsewhere (a pipe, a CI
 * log, or --verbose beside per-event lines) frames are appended.
 */
import { Writable } from 'node:stream';
import type { Daemon } from '../daemon.js';
import { EVENT_TYPES } from '../events/types.js';
import { KNOWN_STATUSES, UNSEEN_STATUS } from '../shared/status.js';

export interface DashboardSample {
  /** ms when sampled. */
  at: number;
  /** Pending lipsyncs by status label. */
  pending: Record<string, number>;
  stalled: number;
  deadLetters: number;
  /** Webhooks received (and verified) by the demo receiver, by event type. */
  received: Record<string, number>;
}

const STATUS_ORDER = [UNSEEN_STATUS, ...KNOWN_STATUSES] as readonly string[];

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

/** `status n · status n`, known statuses in lifecycle order, zeros left out. */
function breakdown(counts: Record<string, number>, order: readonly string[], strip = ''): string {
  const rank = (name: string): number => (order.includes(name) ? order.indexOf(name) : order.length);
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([name, n]) => `${name.replace(strip, '')} ${n}`);
  return parts.length === 0 ? '—' : parts.join(' · ');
}

/** One frame: a few lines, each at most ~100 columns for the usual counts. */
export function renderDashboard(sample: DashboardSample, previous: DashboardSample | null, info: { startedAt: number; statusUrl: string | null }): string[] {
  const received = total(sample.received);
  const seconds = previous === null ? 0 : (sample.at - previous.at) / 1000;
  const rate = seconds > 0 ? (received - total(previous?.received ?? {})) / seconds : 0;
  const uptime = Math.round((sample.at - info.startedAt) / 1000);
  return [
    `lipsync-sync demo · ${uptime} s · status page ${info.statusUrl ?? '(HTTP disabled)'} · Ctrl-C to stop`,
    `  lipsyncs  ${String(total(sample.pending)).padStart(6)} pending   ${breakdown(sample.pending, STATUS_ORDER)}`,
    `  webhooks  ${String(received).padStart(6)} received  ${rate.toFixed(1)} events/s · ${breakdown(sample.received, EVENT_TYPES, 'lipsync.')}`,
    `  stalled   ${String(sample.stalled).padStart(6)}           dead letters ${sample.deadLetters}`,
  ];
}

export async function sampleDemo(daemon: Daemon, received: ReadonlyMap<string, number>, now = Date.now()): Promise<DashboardSample> {
  const [pending, stalled, dead] = await Promise.all([daemon.store.statusCounts(), daemon.store.stalledCounts(), daemon.webhooks.deadLetters.count()]);
  return { at: now, pending, stalled: total(stalled), deadLetters: total(dead), received: Object.fromEntries(received) };
}

/** Where frames and log lines go. With `redraw`, the frame stays the last thing on screen. */
export class LiveScreen {
  readonly #write: (text: string) => void;
  readonly redraw: boolean;
  #frame: string[] = [];

  readonly #columns: () => number;

  /** `columns`: the terminal's width; a redrawn line must not wrap, or the cursor would not get back to the frame's top. */
  constructor(write: (text: string) => void, redraw: boolean, columns: () => number = () => Infinity) {
    this.#write = write;
    this.redraw = redraw;
    this.#columns = columns;
  }

  showFrame(lines: string[]): void {
    const shown = this.redraw ? lines.map((line) => line.slice(0, Math.max(20, this.#columns() - 1))) : lines;
    this.#write(`${this.#clear()}${shown.join('\n')}\n${this.redraw ? '' : '\n'}`);
    this.#frame = shown;
  }

  /** Text (whole lines) printed above the frame. */
  print(text: string): void {
    this.#write(this.redraw && this.#frame.length > 0 ? `${this.#clear()}${text}${this.#frame.join('\n')}\n` : text);
  }

  /** A stream for the logger, so log lines go through print(). */
  stream(): Writable {
    return new Writable({
      write: (chunk: Buffer | string, _encoding, done) => {
        this.print(chunk.toString());
        done();
      },
    });
  }

  /** Cursor up to the frame's first line, then clear to the end of the screen. */
  #clear(): string {
    return this.redraw && this.#frame.length > 0 ? `\x1b[${this.#frame.length}F\x1b[J` : '';
  }
}

export interface DashboardOptions {
  sample(): Promise<DashboardSample>;
  screen: LiveScreen;
  intervalMs: number;
  statusUrl: string | null;
  /** Told when a sample fails (Redis trouble); the next tick tries again. */
  onError(err: unknown): void;
}

/** Shows a frame now and every `intervalMs`; stop() shows a last one so the final counts stay on screen. */
export function startDashboard(options: DashboardOptions): { stop(): Promise<void> } {
  const startedAt = Date.now();
  let previous: DashboardSample | null = null;
  let busy: Promise<void> = Promise.resolve();
  const frame = (): Promise<void> =>
    (busy = busy.then(async () => {
      try {
        const sample = await options.sample();
        options.screen.showFrame(renderDashboard(sample, previous, { startedAt, statusUrl: options.statusUrl }));
        previous = sample;
      } catch (err) {
        options.onError(err);
      }
    }));
  void frame();
  const timer = setInterval(() => void frame(), options.intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await frame();
    },
  };
}
