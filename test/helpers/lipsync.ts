import { readItem, type AnswerItem, type Lipsync } from '../../src/creatify/schema.js';

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

// The example object from the upstream doc (creatify-lipsyncs-v2-list-endpoint.txt), verbatim.
export const DOC_EXAMPLE = {
  id: '3c90c3cc-0d44-4b50-8888-8dd25736052a',
  name: '<string>',
  output: '<string>',
  video_thumbnail: '<string>',
  created_at: '2023-11-07T05:31:56Z',
  updated_at: '2023-11-07T05:31:56Z',
  credits_used: 123,
  duration: 123,
  progress: '<string>',
  failed_reason: '<string>',
  media_job: '3c90c3cc-0d44-4b50-8888-8dd25736052a',
  status: '<string>',
  webhook_url: '<string>',
  preview: '<string>',
  editor_url: '<string>',
  aspect_ratio: '16x9',
  video_inputs: ['<any>'],
};

/** A documented lipsync object as the daemon reads it from an answer. */
export function answerItem(overrides: Partial<Lipsync> & { id: string } & Record<string, unknown>): AnswerItem {
  const read = readItem(lipsync(overrides));
  if (read.kind !== 'item') throw new Error(`test fixture is not readable: ${read.issues}`);
  return read.item;
}
