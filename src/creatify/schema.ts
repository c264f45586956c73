import { z } from 'zod';

/**
 * Reading Creatify's list answer (../shared/creatify-lipsyncs-v2-list-endpoint.txt). The daemon validates
 * strictly only the fields it reads — `id`, `status`, `progress`, `failed_reason`, `updated_at` — and passes every
 * other field, documented or not, through exactly as given, whatever its type: a `null` thumbnail or a fractional
 * `credits_used` must never stop a lipsync from being followed to its final status.
 */
const uuid = z.guid();

export const ASPECT_RATIOS = ['16x9', '1x1', '9x16'] as const;

/**
 * The object as the doc describes it (for the simulator, fixtures and integrators). The daemon does NOT validate
 * answers against it: real answers drift from the doc; see `readFields` for what is checked.
 */
export const lipsyncSchema = z.looseObject({
  id: uuid,
  output: z.string().nullable(),
  video_thumbnail: z.string(),
  created_at: z.iso.datetime({ offset: true }),
  updated_at: z.iso.datetime({ offset: true }),
  credits_used: z.number().int(),
  duration: z.number().int(),
  progress: z.string(),
  failed_reason: z.string().nullable(),
  status: z.string(),
  preview: z.string().nullable(),
  editor_url: z.string().nullable(),
  aspect_ratio: z.enum(ASPECT_RATIOS),
  video_inputs: z.array(z.unknown()),
  name: z.string().max(255).nullable().optional(),
  media_job: uuid.nullable().optional(),
  webhook_url: z.string().max(200).nullable().optional(),
});

export type Lipsync = z.infer<typeof lipsyncSchema>;

/** The fields the daemon reads, as it reads them. Only these are validated. */
const readSchema = z.object({
  status: z.string().refine((s) => s.trim() !== '', 'must be a non-empty string'),
  // A number is as good as its string form ("0.4" and 0.4 mean the same); absent or null is "no progress yet".
  progress: z.union([z.string(), z.number().refine(Number.isFinite, 'must be finite')]).nullish(),
  failed_reason: z.string().nullish(),
});

/** One answered item, reduced to what the daemon diffs, plus the object exactly as received. */
export interface AnswerItem {
  /** Lower-cased UUID. */
  id: string;
  status: string;
  /** The string form of `progress`; null when absent. */
  progress: string | null;
  failed_reason: string | null;
  /** Creatify's `updated_at` in ms, or null when absent or not a date (never a reason to reject the item). */
  updatedAtMs: number | null;
  /** The received object, untouched (carried in events and stored for `status`). */
  raw: Record<string, unknown>;
}

/** An item whose id is readable but a field the daemon reads is not: counted, shown, never silently stuck. */
export interface UnreadableItem {
  id: string;
  index: number;
  issues: string;
}

/** An item without a readable id: it cannot be attributed to any tracked lipsync. */
export interface MalformedItem {
  index: number;
  issues: string;
}

export interface ParsedList {
  items: AnswerItem[];
  unreadable: UnreadableItem[];
  malformed: MalformedItem[];
}

export type ReadResult = { kind: 'item'; item: AnswerItem } | { kind: 'unreadable'; id: string; issues: string } | { kind: 'malformed'; issues: string };

/** Reads one answer item: what the daemon reads is validated, the rest passes through untouched. */
export function readItem(raw: unknown): ReadResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { kind: 'malformed', issues: `(item): expected an object, got ${raw === null ? 'null' : Array.isArray(raw) ? 'array' : typeof raw}` };
  }
  const record = raw as Record<string, unknown>;
  const id = uuid.safeParse(record['id']);
  if (!id.success) return { kind: 'malformed', issues: `id: ${id.error.issues[0]?.message ?? 'not a UUID'}` };
  const fields = readSchema.safeParse(record);
  if (!fields.success) {
    return { kind: 'unreadable', id: id.data.toLowerCase(), issues: fields.error.issues.map((i) => `${i.path.join('.') || '(item)'}: ${i.message}`).join('; ') };
  }
  const { status, progress, failed_reason } = fields.data;
  return {
    kind: 'item',
    item: {
      id: id.data.toLowerCase(),
      status,
      progress: progress === null || progress === undefined ? null : String(progress),
      failed_reason: failed_reason ?? null,
      updatedAtMs: parseTimestamp(record['updated_at']),
      raw: record,
    },
  };
}

/** Validates the list answer item by item; `{ error }` only when the answer is not an array at all. */
export function parseListResponse(body: unknown): ParsedList | { error: string } {
  if (!Array.isArray(body)) {
    return { error: `expected a JSON array of lipsync objects, got ${body === null ? 'null' : typeof body}` };
  }
  const parsed: ParsedList = { items: [], unreadable: [], malformed: [] };
  body.forEach((raw: unknown, index) => {
    const read = readItem(raw);
    if (read.kind === 'item') parsed.items.push(read.item);
    else if (read.kind === 'unreadable') parsed.unreadable.push({ id: read.id, index, issues: read.issues });
    else parsed.malformed.push({ index, issues: read.issues });
  });
  return parsed;
}

function parseTimestamp(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}
