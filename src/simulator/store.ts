/**
 * The simulator's lipsyncs: static ones set by tests, and random timelines that advance with the injected
 * clock. Stored state is always a valid lipsync (faults damage copies at serving time, never this). Answers
 * cost no scan of the store: a lookup per asked id, and each item's JSON is cached per timeline step.
 */
import type { Lipsync } from '../creatify/schema.js';
import {
  createTimelineLipsync,
  defaultLipsync,
  isUuid,
  randomUuidV4,
  renderTimelineLipsync,
  stepIndexAt,
  toIso,
  type Rng,
  type TimelineLipsync,
  type TimelineStep,
} from './timeline.js';

/** `json` caches the serialised object; valid while `jsonStep` matches (-1 for static entries, else the step index). */
export type Entry = { id: string; seq: number; createdMs: number; json?: string; jsonStep?: number } & (
  | { kind: 'static'; obj: Lipsync }
  | { kind: 'timeline'; tl: TimelineLipsync }
);

export interface LipsyncStoreOptions {
  now: () => number;
  /** Timeline step length in ms. */
  stepMs: number;
  /** Draws ids and timelines; a seed reproduces them whatever the request traffic. */
  rng: Rng;
  /** Rewrites a new timeline's steps (the requeue fault); identity when absent. */
  reshapeSteps?: (id: string, steps: TimelineStep[]) => TimelineStep[];
}

export class LipsyncStore {
  private readonly entries = new Map<string, Entry>();
  private seq = 0;

  constructor(private readonly options: LipsyncStoreOptions) {
    if (!(options.stepMs > 0)) throw new RangeError('stepMs must be > 0');
  }

  /** Merges `fields` into the stored object (a fresh default one first), bumping `updated_at` unless given. */
  set(id: string, fields: Partial<Lipsync> = {}): Lipsync {
    const key = keyOf(id);
    const now = this.options.now();
    const existing = this.entries.get(key);
    const previous = existing ? render(existing, now) : undefined;
    // Cloned so later mutation of the caller's `fields` (or of the returned object) cannot reach stored state.
    const next: Lipsync = structuredClone({ ...(previous ?? defaultLipsync(key, now)), ...fields, id: key });
    if (fields.updated_at === undefined) {
      // Strictly increasing even for two sets within the same millisecond.
      const prevUpdated = previous ? Date.parse(previous.updated_at) : Number.NEGATIVE_INFINITY;
      next.updated_at = toIso(Math.max(now, prevUpdated + 1));
    }
    const createdMs = Date.parse(next.created_at);
    this.entries.set(key, {
      id: key,
      kind: 'static',
      seq: existing?.seq ?? this.seq++,
      createdMs: Number.isNaN(createdMs) ? now : createdMs,
      obj: next,
    });
    return structuredClone(next);
  }

  get(id: string): Lipsync | undefined {
    if (!isUuid(id)) return undefined;
    const entry = this.entries.get(id.toLowerCase());
    return entry ? structuredClone(render(entry, this.options.now())) : undefined;
  }

  remove(id: string): void {
    this.entries.delete(id.toLowerCase());
  }

  addRandom(count: number): string[] {
    if (!Number.isInteger(count) || count < 0) throw new RangeError('count must be a non-negative integer');
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      let id = randomUuidV4(this.options.rng);
      while (this.entries.has(id)) id = randomUuidV4(this.options.rng);
      this.addTimeline(id);
      ids.push(id);
    }
    return ids;
  }

  /** The entries for `asked` (deduplicated, case-insensitive), newest first; unknown ids get a timeline when `autoCreate`. */
  lookup(asked: readonly string[], autoCreate: boolean): Entry[] {
    const found: Entry[] = [];
    for (const key of new Set(asked.map((id) => id.toLowerCase()))) {
      const entry = this.entries.get(key) ?? (autoCreate ? this.addTimeline(key) : undefined);
      if (entry !== undefined) found.push(entry);
    }
    return found.sort(newestFirst);
  }

  /** Newest first, at most `max`. Sorting every call is fine: discovery is not the hot path. */
  newest(max: number): Entry[] {
    return [...this.entries.values()].sort(newestFirst).slice(0, max);
  }

  /** The object as served at `now`; shared with the store, so callers that change it must clone it first. */
  render(entry: Entry, now: number): Lipsync {
    return render(entry, now);
  }

  /** The entry as JSON text. Serialisation dominates the cost of an answer, so the text is cached per step. */
  json(entry: Entry, now: number): string {
    const step = entry.kind === 'static' ? -1 : stepIndexAt(entry.tl, now);
    if (entry.json === undefined || entry.jsonStep !== step) {
      entry.json = JSON.stringify(render(entry, now));
      entry.jsonStep = step;
    }
    return entry.json;
  }

  clear(): void {
    this.entries.clear();
  }

  private addTimeline(id: string): Entry {
    const now = this.options.now();
    const tl = createTimelineLipsync(this.options.rng, id, now, { stepMs: this.options.stepMs });
    const reshape = this.options.reshapeSteps;
    const entry: Entry = { id, kind: 'timeline', seq: this.seq++, createdMs: now, tl: reshape ? { ...tl, steps: reshape(id, [...tl.steps]) } : tl };
    this.entries.set(id, entry);
    return entry;
  }
}

function render(entry: Entry, now: number): Lipsync {
  return entry.kind === 'static' ? entry.obj : renderTimelineLipsync(entry.tl, now);
}

function newestFirst(a: Entry, b: Entry): number {
  return b.createdMs - a.createdMs || b.seq - a.seq;
}

/** The stored key of an id; a non-UUID is a test's mistake, so it throws. */
export function keyOf(id: string): string {
  if (!isUuid(id)) throw new TypeError(`not a UUID: ${JSON.stringify(id)}`);
  return id.toLowerCase();
}
