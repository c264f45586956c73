import { z } from 'zod';

/**
 * One lipsync object as documented for `GET /api/lipsyncs_v2/` (../shared/creatify-lipsyncs-v2-list-endpoint.txt).
 * Required vs nullable exactly as the doc writes them; unknown extra fields pass through untouched so a new
 * upstream field never breaks polling. `status` and `progress` are free strings by contract.
 */
const uuid = z.guid();
const dateTime = z.iso.datetime({ offset: true });

export const ASPECT_RATIOS = ['16x9', '1x1', '9x16'] as const;

export const lipsyncSchema = z.looseObject({
  id: uuid,
  output: z.string().nullable(),
  video_thumbnail: z.string(),
  created_at: dateTime,
  updated_at: dateTime,
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

/** A list item that failed validation: reported and skipped, never allowed to poison its batch. */
export interface MalformedItem {
  /** The item's id when it had a readable one, so the tracked ID is not mistaken for missing. */
  id: string | null;
  index: number;
  issues: string;
}

export interface ParsedList {
  items: Lipsync[];
  malformed: MalformedItem[];
}

/** Validates the list answer item by item; `{ error }` only when the answer is not an array at all. */
export function parseListResponse(body: unknown): ParsedList | { error: string } {
  if (!Array.isArray(body)) {
    return { error: `expected a JSON array of lipsync objects, got ${body === null ? 'null' : typeof body}` };
  }
  const items: Lipsync[] = [];
  const malformed: MalformedItem[] = [];
  body.forEach((raw: unknown, index) => {
    const result = lipsyncSchema.safeParse(raw);
    if (result.success) {
      items.push(result.data);
      return;
    }
    const rawId = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)['id'] : undefined;
    malformed.push({
      id: typeof rawId === 'string' ? rawId.toLowerCase() : null,
      index,
      issues: result.error.issues.map((i) => `${i.path.join('.') || '(item)'}: ${i.message}`).join('; '),
    });
  });
  return { items, malformed };
}
