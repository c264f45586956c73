/**
 * Pure logic behind the Creatify simulator: a seeded PRNG, random lipsync timelines that advance with
 * wall-clock time (computed lazily from `now`, so no timers), and factories for valid objects.
 * No I/O here, so everything is testable with an injected clock.
 */
import type { Lipsync } from '../creatify/schema.js';

export type Rng = () => number;

const imul = Math.imul; // hoisted: global lookups are slow inside jest's vm sandbox

/** mulberry32: tiny, fast, good enough for test data; same seed → same sequence. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Inclusive on both ends. */
export function randomInt(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new RangeError('pick() from an empty list');
  return item;
}

/** Eight hex digits from one draw (mulberry32 yields exactly 32 bits per call). */
function hex32(rng: Rng): string {
  return Math.floor(rng() * 4294967296)
    .toString(16)
    .padStart(8, '0');
}

/** A version-4 UUID drawn from `rng` (not crypto: determinism is the point). */
export function randomUuidV4(rng: Rng): string {
  const h = hex32(rng) + hex32(rng) + hex32(rng) + hex32(rng);
  const variant = '89ab'[parseInt(h.charAt(16), 16) & 3] ?? '8';
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Any 8-4-4-4-12 hex string, case-insensitive (the API does not insist on a version nibble). */
export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

export function toIso(ms: number): string {
  return new Date(ms).toISOString();
}

export const ASSET_BASE = 'https://sim.creatify.local';

/** A valid lipsync with every required field filled, as a freshly created job looks. */
export function defaultLipsync(id: string, nowMs: number): Lipsync {
  const at = toIso(nowMs);
  return {
    id,
    name: `sim-${id.slice(0, 8)}`,
    output: null,
    video_thumbnail: `${ASSET_BASE}/thumbnails/${id}.jpg`,
    created_at: at,
    updated_at: at,
    credits_used: 0,
    duration: 10,
    progress: '0',
    failed_reason: null,
    media_job: null,
    status: 'pending',
    webhook_url: null,
    preview: null,
    editor_url: null,
    aspect_ratio: '16x9',
    video_inputs: [],
  };
}

export const FAILED_REASONS = ['face not detected', 'audio too long', 'internal error', 'insufficient credits'] as const;

export const DEFAULT_FAILURE_RATE = 0.15;

export interface TimelineStep {
  status: string;
  progress: string;
  failed_reason: string | null;
}

/**
 * pending → in_queue (1–2 steps) → running with progress "0.1".."0.9" rising by 0.1–0.3 per step →
 * done (progress "1") or, with `failureRate`, failed at a random point with a reason from FAILED_REASONS.
 */
export function buildSteps(rng: Rng, failureRate: number = DEFAULT_FAILURE_RATE): TimelineStep[] {
  const steps: TimelineStep[] = [{ status: 'pending', progress: '0', failed_reason: null }];
  const queued = randomInt(rng, 1, 2);
  for (let i = 0; i < queued; i++) steps.push({ status: 'in_queue', progress: '0', failed_reason: null });
  const running: TimelineStep[] = [];
  for (let tenths = randomInt(rng, 1, 3); tenths < 10; tenths += randomInt(rng, 1, 3)) {
    running.push({ status: 'running', progress: String(tenths / 10), failed_reason: null });
  }
  if (rng() < failureRate) {
    // A failure may come before any rendering (e.g. credits) or mid-way (e.g. face detection).
    const kept = running.slice(0, randomInt(rng, 0, running.length));
    steps.push(...kept);
    const last = steps[steps.length - 1];
    steps.push({ status: 'failed', progress: last?.progress ?? '0', failed_reason: pick(rng, FAILED_REASONS) });
  } else {
    steps.push(...running, { status: 'done', progress: '1', failed_reason: null });
  }
  return steps;
}

export interface TimelineLipsync {
  /** Fields that do not change along the timeline. */
  base: Lipsync;
  /** Applied once the status is `done`. */
  doneFields: Pick<Lipsync, 'output' | 'preview' | 'credits_used'>;
  steps: readonly TimelineStep[];
  startMs: number;
  /** Random 0..stepMs shift so many lipsyncs do not all advance on the same tick. */
  offsetMs: number;
  stepMs: number;
}

export interface TimelineOptions {
  stepMs: number;
  failureRate?: number;
}

const EXTRA_FIELDS: ReadonlyArray<readonly [string, unknown]> = [
  ['foo_extra', 1],
  ['render_region', 'sim-eu-1'],
  ['is_hidden', false],
];

/** A random lipsync; every call draws from `rng` in a fixed order so a seed reproduces it exactly. */
export function createTimelineLipsync(rng: Rng, id: string, nowMs: number, options: TimelineOptions): TimelineLipsync {
  const base = defaultLipsync(id, nowMs);
  base.aspect_ratio = pick(rng, ['16x9', '1x1', '9x16'] as const);
  base.duration = randomInt(rng, 3, 120);
  if (rng() < 0.2) base.name = null;
  base.video_inputs = [
    {
      character: { type: 'avatar', avatar_id: randomUuidV4(rng) },
      voice: { type: 'audio', audio_url: `${ASSET_BASE}/audio/${id}.mp3` },
    },
  ];
  // Upstream adds fields without notice; the daemon must pass them through.
  for (const [key, value] of EXTRA_FIELDS) {
    if (rng() < 0.25) base[key] = value;
  }
  const steps = buildSteps(rng, options.failureRate);
  return {
    base,
    doneFields: {
      output: `${ASSET_BASE}/lipsyncs/${id}/output.mp4`,
      preview: `${ASSET_BASE}/lipsyncs/${id}/preview.mp4`,
      credits_used: Math.max(1, Math.ceil(base.duration / 30)),
    },
    steps,
    startMs: nowMs,
    offsetMs: Math.floor(rng() * options.stepMs),
    stepMs: options.stepMs,
  };
}

/** Step 0 holds from start; step i ≥ 1 is reached at start + offset + i·stepMs. */
export function stepIndexAt(tl: TimelineLipsync, nowMs: number): number {
  const elapsed = nowMs - tl.startMs - tl.offsetMs;
  const index = Math.floor(elapsed / tl.stepMs);
  return Math.min(tl.steps.length - 1, Math.max(0, index));
}

export function stepReachedAt(tl: TimelineLipsync, index: number): number {
  return index === 0 ? tl.startMs : tl.startMs + tl.offsetMs + index * tl.stepMs;
}

/** When the timeline reaches its terminal step. */
export function terminalAt(tl: TimelineLipsync): number {
  return stepReachedAt(tl, tl.steps.length - 1);
}

/** The object as the API would serve it at `nowMs`. A fresh top-level object; nested values are shared. */
export function renderTimelineLipsync(tl: TimelineLipsync, nowMs: number): Lipsync {
  const index = stepIndexAt(tl, nowMs);
  const step = tl.steps[index];
  if (step === undefined) throw new Error('timeline has no steps');
  const obj: Lipsync = {
    ...tl.base,
    status: step.status,
    progress: step.progress,
    failed_reason: step.failed_reason,
    updated_at: toIso(stepReachedAt(tl, index)),
  };
  if (step.status === 'done') Object.assign(obj, tl.doneFields);
  return obj;
}
