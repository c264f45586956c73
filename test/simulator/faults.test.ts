import { describe, expect, it } from '@jest/globals';
import { lipsyncSchema } from '../../src/creatify/schema.js';
import { jsonArray } from '../../src/simulator/answers.js';
import { ANSWER_FAULTS, ITEM_FAULTS, LIST_FAULTS, MALFORMATIONS, requeueSteps, serverError } from '../../src/simulator/faults.js';
import { buildSteps, createRng, defaultLipsync, isUuid, type TimelineStep } from '../../src/simulator/timeline.js';

const ID = '3c90c3cc-0d44-4b50-8888-8dd25736052a';
const T0 = Date.UTC(2026, 0, 1);

function item(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...defaultLipsync(ID, T0), ...fields };
}

describe('MALFORMATIONS', () => {
  it('each makes a valid object fail lipsyncSchema but keeps its id', () => {
    for (const mutate of MALFORMATIONS) {
      const obj = item();
      mutate(obj);
      expect(lipsyncSchema.safeParse(obj).success).toBe(false);
      expect(obj['id']).toBe(ID);
    }
  });
});

describe('item faults', () => {
  it('progressNumber sends progress as a JSON number', () => {
    const obj = item({ progress: '0.4' });
    ITEM_FAULTS.progressNumber(obj);
    expect(obj['progress']).toBe(0.4);
    const unparsable = item({ progress: 'soon' });
    ITEM_FAULTS.progressNumber(unparsable);
    expect(unparsable['progress']).toBe(0.4);
  });

  it('nullMedia nulls video_thumbnail and duration only', () => {
    const obj = item();
    ITEM_FAULTS.nullMedia(obj);
    expect(obj).toEqual({ ...item(), video_thumbnail: null, duration: null });
  });

  it('fractionalCredits makes credits_used fractional', () => {
    const obj = item({ credits_used: 2 });
    ITEM_FAULTS.fractionalCredits(obj);
    expect(obj['credits_used']).toBe(2.5);
  });

  it('progressBack lowers progress in the same format and keeps updated_at', () => {
    for (const [from, to] of [
      ['0.7', '0.6'],
      ['1', '0.9'],
      ['50', '40'],
      ['0.05', '0'],
    ] as const) {
      const obj = item({ progress: from });
      ITEM_FAULTS.progressBack(obj);
      expect([from, obj['progress']]).toEqual([from, to]);
      expect(obj['updated_at']).toBe(item()['updated_at']);
    }
    const zero = item({ progress: '0' });
    ITEM_FAULTS.progressBack(zero);
    expect(zero['progress']).toBe('0');
  });

  it('missingStatus removes the status field and keeps the id', () => {
    const obj = item({ status: 'running' });
    ITEM_FAULTS.missingStatus(obj);
    expect('status' in obj).toBe(false);
    expect(obj['id']).toBe(ID);
  });
});

describe('list faults', () => {
  const items = ['{"id":"a"}', '{"id":"b"}'];

  it('duplicateItem repeats one of the items, and leaves an empty list empty', () => {
    const out = LIST_FAULTS.duplicateItem(items, createRng(1));
    expect(out).toHaveLength(3);
    expect(out.slice(0, 2)).toEqual(items);
    expect(items).toContain(out[2]);
    expect(LIST_FAULTS.duplicateItem([], createRng(1))).toEqual([]);
  });

  it('extraId appends a valid lipsync with an id not among those asked, the same for the same seed', () => {
    const out = LIST_FAULTS.extraId(items, createRng(5), T0);
    expect(out.slice(0, 2)).toEqual(items);
    const stranger = JSON.parse(out[2] ?? '{}') as Record<string, unknown>;
    expect(isUuid(String(stranger['id']))).toBe(true);
    expect(lipsyncSchema.safeParse(stranger).success).toBe(true);
    expect(LIST_FAULTS.extraId(items, createRng(5), T0)).toEqual(out);
    expect(LIST_FAULTS.extraId(items, createRng(6), T0)).not.toEqual(out);
  });
});

describe('answer faults', () => {
  const normal = (): ReturnType<typeof jsonArray> => jsonArray([JSON.stringify(item())]);
  const context = { normal, retryAfterSeconds: 7 };

  it('truncatedJson keeps the 200 and cuts the body so it no longer parses', () => {
    const answer = ANSWER_FAULTS.truncatedJson(context);
    expect(answer.status).toBe(200);
    expect(normal().body.startsWith(answer.body)).toBe(true);
    expect(answer.body.length).toBeLessThan(normal().body.length);
    expect(() => JSON.parse(answer.body) as unknown).toThrow(SyntaxError);
  });

  it('badGateway is an HTML 502', () => {
    const answer = ANSWER_FAULTS.badGateway();
    expect(answer.status).toBe(502);
    expect(answer.headers['content-type']).toMatch(/^text\/html/);
    expect(answer.body).toContain('502 Bad Gateway');
  });

  it('emptyArray is a 200 []', () => {
    expect(ANSWER_FAULTS.emptyArray()).toMatchObject({ status: 200, body: '[]' });
  });

  it('rateLimited is a 429 with Retry-After; rateLimitedNoRetryAfter has none', () => {
    const limited = ANSWER_FAULTS.rateLimited(context);
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('7');
    const bare = ANSWER_FAULTS.rateLimitedNoRetryAfter();
    expect(bare.status).toBe(429);
    expect(Object.keys(bare.headers).map((h) => h.toLowerCase())).not.toContain('retry-after');
  });

  it('serverError is an HTML 500', () => {
    expect(serverError()).toMatchObject({ status: 500, headers: { 'content-type': expect.stringMatching(/^text\/html/) } });
  });
});

describe('requeueSteps', () => {
  const statuses = (steps: readonly TimelineStep[]): string[] => steps.map((s) => s.status).filter((s, i, all) => s !== all[i - 1]);

  it('sends a running job back to in_queue once, then runs it again to the same end', () => {
    const rng = createRng(11);
    for (let i = 0; i < 50; i++) {
      const steps = buildSteps(rng, 0);
      const requeued = requeueSteps(steps);
      expect(statuses(requeued)).toEqual(['pending', 'in_queue', 'running', 'in_queue', 'running', 'done']);
      expect(requeued.at(-1)).toEqual(steps.at(-1));
    }
  });

  it('keeps a timeline that never runs', () => {
    const steps: TimelineStep[] = [
      { status: 'pending', progress: '0', failed_reason: null },
      { status: 'failed', progress: '0', failed_reason: 'insufficient credits' },
    ];
    expect(requeueSteps(steps)).toEqual(steps);
  });
});
