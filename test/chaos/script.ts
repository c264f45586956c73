/**
 * The chaos suite's scripted timelines and the events they must produce, known before the run starts.
 * Pure: a seed and a start time give the same steps, times and expected events every time.
 * Invariant: every step is held at least `holdMs`, so a daemon that polls each moving id at least once per
 * `holdMs` sees every step, and every expected event below is one it must deliver.
 */
import { requeueSteps } from '../../src/simulator/faults.js';
import { buildSteps, createRng, randomInt, randomUuidV4, type Rng, type TimelineStep } from '../../src/simulator/timeline.js';

export interface ScriptedStep extends TimelineStep {
  /** Unix ms at which the simulator starts answering this step. */
  at: number;
}

export interface ScriptedLipsync {
  id: string;
  steps: ScriptedStep[];
  /**
   * The job was requeued once (the simulator's requeueSteps: running → in_queue → running from the start), so
   * `in_queue → running` happens twice with the same fields: each must be delivered, under its own id.
   */
  requeued: boolean;
}

export interface ExpectedEvent {
  type: string;
  /** `type|status|progress|failed_reason` of the event's `data.current`: what a receiver can check. */
  key: string;
  /** When the step that causes it began (unix ms). */
  at: number;
  /** The lipsync's final event (completed/failed): its latency is the one the table reports. */
  final: boolean;
}

export interface ScriptOptions {
  seed: number;
  count: number;
  startMs: number;
  holdMs: number;
  /** Steps of the first lipsync start at startMs; the others are spread over this window. */
  spreadMs: number;
  /** Short timelines (pending, in_queue, running…, final in ≤ 5 steps) for the CI mode. */
  short: boolean;
  /** Fraction of lipsyncs requeued once mid-run. */
  requeueRate: number;
}

export const TERMINAL = new Set(['done', 'failed']);

/** buildSteps' shape cut to at most two running steps, so a short run still crosses every kind of change. */
function shortSteps(rng: Rng): TimelineStep[] {
  const full = buildSteps(rng);
  const running = full.filter((s) => s.status === 'running').slice(0, 2);
  const last = full[full.length - 1] as TimelineStep;
  const final = last.status === 'failed' ? { ...last, progress: running[running.length - 1]?.progress ?? '0' } : last;
  return [{ status: 'pending', progress: '0', failed_reason: null }, { status: 'in_queue', progress: '0', failed_reason: null }, ...running, final];
}

export function buildScript(options: ScriptOptions): ScriptedLipsync[] {
  const rng = createRng(options.seed);
  const script: ScriptedLipsync[] = [];
  for (let n = 0; n < options.count; n++) {
    const id = randomUuidV4(rng);
    const base = options.short ? shortSteps(rng) : buildSteps(rng);
    const requeued = rng() < options.requeueRate && base.some((s) => s.status === 'running');
    const steps = requeued ? requeueSteps(base) : base;
    const offset = n === 0 ? 0 : randomInt(rng, 0, options.spreadMs);
    script.push({
      id,
      requeued,
      steps: steps.map((s, i) => ({ ...s, at: i === 0 ? options.startMs : options.startMs + offset + i * options.holdMs })),
    });
  }
  return script;
}

export function eventKey(type: string, current: { status: string | null; progress: string | null; failed_reason: string | null }): string {
  return [type, current.status, current.progress, current.failed_reason].join('|');
}

/** SPEC "Change events": the most specific types per change, status_changed/progress_changed first. */
export function expectedEvents(lipsync: ScriptedLipsync): ExpectedEvent[] {
  const out: ExpectedEvent[] = [];
  const push = (type: string, step: ScriptedStep, final: boolean): void => {
    out.push({ type, key: eventKey(type, step), at: step.at, final });
  };
  lipsync.steps.forEach((step, i) => {
    const prev = lipsync.steps[i - 1];
    const final = TERMINAL.has(step.status);
    if (prev === undefined) {
      push('lipsync.tracked', step, false);
      if (step.status === 'failed') push('lipsync.failed', step, true);
      if (step.status === 'done') push('lipsync.completed', step, true);
      return;
    }
    const statusChanged = prev.status !== step.status;
    const progressChanged = prev.progress !== step.progress;
    const reasonAppeared = step.failed_reason !== null && prev.failed_reason !== step.failed_reason;
    if (statusChanged) push('lipsync.status_changed', step, false);
    else if (progressChanged && !reasonAppeared) push('lipsync.progress_changed', step, false);
    if ((statusChanged && step.status === 'failed') || reasonAppeared) push('lipsync.failed', step, final);
    if (statusChanged && step.status === 'done') push('lipsync.completed', step, final);
  });
  return out;
}

/** When the lipsync reaches its final status. */
export function terminalAt(lipsync: ScriptedLipsync): number {
  const last = lipsync.steps[lipsync.steps.length - 1];
  return last === undefined ? Number.POSITIVE_INFINITY : last.at;
}

/** The step the simulator answers at `now` (the last one whose time has come). */
export function stepAt(lipsync: ScriptedLipsync, now: number): { index: number; step: ScriptedStep } {
  let index = 0;
  while (index + 1 < lipsync.steps.length && (lipsync.steps[index + 1] as ScriptedStep).at <= now) index++;
  return { index, step: lipsync.steps[index] as ScriptedStep };
}
