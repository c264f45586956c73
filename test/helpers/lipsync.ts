import type { Lipsync } from '../../src/creatify/schema.js';

/** A valid lipsync object as documented, with the fields under test overridden. */
export function lipsync(overrides: Partial<Lipsync> & { id: string }): Lipsync {
  return {
    output: null,
    video_thumbnail: 'https://cdn.example/thumb.jpg',
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    credits_used: 5,
    duration: 12,
    progress: '0',
    failed_reason: null,
    status: 'pending',
    preview: null,
    editor_url: null,
    aspect_ratio: '16x9',
    video_inputs: [],
    ...overrides,
  };
}

let counter = 0;
/** Distinct valid UUIDs, stable per process. */
export function uuid(n = counter++): string {
  const hex = n.toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${hex}`;
}
