/**
 * Judges one chaos run from what was recorded: receivers' deliveries against the expected events, and the
 * upstream request log for poll gaps. Pure: the same recordings give the same verdict.
 * Invariant: a duplicate is only ever a repeated `webhook-id`; the same change under two ids, a lost event, an
 * event nobody expected and an out-of-order event each count against the run.
 */
import { eventKey, type ExpectedEvent } from './script.js';

export interface Delivery {
  webhookId: string;
  receivedAt: number;
  signatureOk: boolean;
  /** The parsed body; null when it did not parse. */
  event: { id?: string; type: string; data: { lipsync_id: string; sequence?: number; current: { status: string | null; progress: string | null; failed_reason: string | null } } } | null;
}

export interface DeliveryVerdict {
  expected: number;
  delivered: number;
  lost: number;
  /** Repeated `webhook-id`s: allowed by at-least-once delivery. */
  duplicates: number;
  /** The same change delivered under a second `webhook-id`: receivers deduping on it would see it twice. */
  duplicatesWithNewId: number;
  unexpected: number;
  outOfOrder: number;
  badSignatures: number;
  /** Expected final event → delivery, ms, one per lipsync × endpoint that delivered it. */
  finalLatenciesMs: number[];
  /** A few concrete problems, for the report. */
  examples: string[];
}

const MAX_EXAMPLES = 6;

/** `deliveries` are one endpoint's, in arrival order. */
export function judgeEndpoint(expected: ReadonlyMap<string, readonly ExpectedEvent[]>, deliveries: readonly Delivery[], endpoint: string): DeliveryVerdict {
  const v: DeliveryVerdict = { expected: 0, delivered: 0, lost: 0, duplicates: 0, duplicatesWithNewId: 0, unexpected: 0, outOfOrder: 0, badSignatures: 0, finalLatenciesMs: [], examples: [] };
  const note = (text: string): void => {
    if (v.examples.length < MAX_EXAMPLES) v.examples.push(`${endpoint}: ${text}`);
  };
  const seen = new Set<string>();
  const byLipsync = new Map<string, Delivery[]>();
  for (const d of deliveries) {
    if (!d.signatureOk) {
      v.badSignatures++;
      note(`bad signature on ${d.webhookId}`);
      continue;
    }
    if (seen.has(d.webhookId)) {
      v.duplicates++;
      continue;
    }
    seen.add(d.webhookId);
    const id = d.event?.data.lipsync_id ?? '(unparsable)';
    byLipsync.set(id, [...(byLipsync.get(id) ?? []), d]);
  }
  for (const [id, events] of expected) {
    v.expected += events.length;
    const got = byLipsync.get(id) ?? [];
    byLipsync.delete(id);
    judgeLipsync(id, events, got, v, note);
  }
  for (const [id, got] of byLipsync) {
    v.unexpected += got.length;
    note(`${got.length} event(s) for ${id}, which was never scripted`);
  }
  return v;
}

function keyOf(d: Delivery): string {
  return d.event === null ? '(unparsable)' : eventKey(d.event.type, d.event.data.current);
}

function judgeLipsync(id: string, events: readonly ExpectedEvent[], got: readonly Delivery[], v: DeliveryVerdict, note: (text: string) => void): void {
  const keys = events.map((e) => e.key);
  // Greedy in-order match: each delivery takes the next expected event with its key at or after the cursor.
  const used = new Array<boolean>(keys.length).fill(false);
  let cursor = 0;
  let lastSequence = Number.NEGATIVE_INFINITY;
  for (const d of got) {
    const key = keyOf(d);
    const sequence = d.event?.data.sequence;
    if (typeof sequence === 'number') {
      if (sequence < lastSequence) {
        v.outOfOrder++;
        note(`${id}: data.sequence ${sequence} arrived after ${lastSequence}`);
      }
      lastSequence = Math.max(lastSequence, sequence);
    }
    const ahead = keys.findIndex((k, i) => i >= cursor && !used[i] && k === key);
    if (ahead >= 0) {
      used[ahead] = true;
      cursor = ahead + 1;
      v.delivered++;
      const event = events[ahead] as ExpectedEvent;
      if (event.final) v.finalLatenciesMs.push(d.receivedAt - event.at);
      continue;
    }
    const behind = keys.findIndex((k, i) => !used[i] && k === key);
    if (behind >= 0) {
      used[behind] = true;
      v.delivered++;
      v.outOfOrder++;
      note(`${id}: ${key} arrived after a later change`);
      continue;
    }
    if (keys.includes(key)) {
      v.duplicatesWithNewId++;
      note(`${id}: ${key} delivered again under a new webhook-id ${d.webhookId}`);
    } else {
      v.unexpected++;
      note(`${id}: unexpected ${key}`);
    }
  }
  const lost = used.filter((u) => !u).length;
  v.lost += lost;
  if (lost > 0) note(`${id}: lost ${keys.filter((_, i) => !used[i]).join(', ')}`);
}

export function mergeVerdicts(verdicts: readonly DeliveryVerdict[]): DeliveryVerdict {
  const total: DeliveryVerdict = { expected: 0, delivered: 0, lost: 0, duplicates: 0, duplicatesWithNewId: 0, unexpected: 0, outOfOrder: 0, badSignatures: 0, finalLatenciesMs: [], examples: [] };
  for (const v of verdicts) {
    total.expected += v.expected;
    total.delivered += v.delivered;
    total.lost += v.lost;
    total.duplicates += v.duplicates;
    total.duplicatesWithNewId += v.duplicatesWithNewId;
    total.unexpected += v.unexpected;
    total.outOfOrder += v.outOfOrder;
    total.badSignatures += v.badSignatures;
    total.finalLatenciesMs.push(...v.finalLatenciesMs);
    total.examples.push(...v.examples);
  }
  return total;
}

export interface PollRecord {
  at: number;
  /** Ids the daemon received a readable, current answer for in this request. */
  answered: readonly string[];
}

export interface PollWindow {
  /** From when the id is tracked… */
  from: number;
  /** …until its final status exists upstream; the first answered poll at or after it ends the window. */
  terminalAt: number;
}

export interface GapResult {
  maxGapMs: number;
  /** The id and the moment its longest gap started, to look it up in the logs. */
  worst: { id: string; from: number } | null;
}

/**
 * Longest time a still-moving id went without an answered poll: between its tracking and its first poll,
 * between two polls, and after the last poll until `end` when its final status was never polled.
 */
export function longestPollGap(polls: readonly PollRecord[], windows: ReadonlyMap<string, PollWindow>, end: number): GapResult {
  const times = new Map<string, number[]>();
  for (const p of polls) {
    for (const id of p.answered) {
      if (!windows.has(id)) continue;
      let list = times.get(id);
      if (list === undefined) times.set(id, (list = []));
      list.push(p.at);
    }
  }
  let result: GapResult = { maxGapMs: 0, worst: null };
  for (const [id, window] of windows) {
    const sorted = (times.get(id) ?? []).filter((t) => t >= window.from).sort((a, b) => a - b);
    let last = window.from;
    let closed = false;
    for (const t of sorted) {
      if (t - last > result.maxGapMs) result = { maxGapMs: t - last, worst: { id, from: last } };
      last = t;
      if (t >= window.terminalAt) {
        closed = true;
        break;
      }
    }
    if (!closed && end - last > result.maxGapMs) result = { maxGapMs: end - last, worst: { id, from: last } };
  }
  return result;
}
