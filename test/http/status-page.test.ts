import { escapeHtml, formatAge, renderStatusPage, STATUS_PAGE_CSP } from '../../src/http/status-page.js';
import type { StatusPageData } from '../../src/http/status-data.js';

const NOW = Date.parse('2026-11-26T12:00:00Z');
const ID = '0b8f6a57-2b1e-4c3a-9d4e-5f6a7b8c9d0e';

function data(overrides: Partial<StatusPageData> = {}): StatusPageData {
  return {
    now: NOW,
    version: '1.2.3',
    counts: [
      { status: 'running', count: 7 },
      { status: 'new', count: 2 },
      { status: 'pending', count: 3 },
    ],
    cycle: { lastPollAt: NOW - 4000, cycleStartedAt: NOW - 6000, lastCycleSeconds: 1.5, outstandingBatches: 0, requestsPerCycle: 3, cycleIds: 250, cycleEvents: 12, cycleFailedBatches: 0, boundSeconds: 0.6, intervalSeconds: 15, maxRequestsPerSecond: 5 },
    recent: [{ id: ID, from: 'running', to: 'failed', failedReason: 'face not found', at: NOW - 30_000 }],
    failures: [{ reasonClass: 'face_detection', count: 4 }],
    stalled: [{ id: ID, status: 'in_queue', since: NOW - 45 * 60_000 }],
    endpoints: [
      { name: 'billing', breaker: 2, deadLetters: 3, queued: 5, disabled: null },
      { name: 'crm', breaker: 0, deadLetters: 0, queued: 0, disabled: 'HTTP 410' },
    ],
    ...overrides,
  };
}

/** Text of the element with this id, tags stripped. */
function section(html: string, id: string): string {
  const match = new RegExp(`<section id="${id}"[^>]*>([\\s\\S]*?)</section>`).exec(html);
  if (match?.[1] === undefined) throw new Error(`no section ${id}`);
  return match[1].replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
}

describe('renderStatusPage', () => {
  it('shows counts in lifecycle order with their total', () => {
    const html = renderStatusPage(data());
    const counts = section(html, 'counts');
    expect(counts).toContain('12 pending');
    expect(counts.replace('pending (not yet terminal)', '')).toMatch(/2 new 3 pending 7 running/);
  });

  it('shows cycle health against the API bound, and warns when a cycle cannot fit the interval', () => {
    expect(section(renderStatusPage(data()), 'cycle')).toMatch(/Last poll 4 s ago polling .*Last cycle time 1\.5 s \(interval 15 s\).*3 at 5 req\/s → needs ≥ 600 ms fits the interval/);
    expect(section(renderStatusPage(data()), 'cycle')).toContain('Last cycle 250 ids answered, 12 events, 0 failed batches');
    const slow = data({ cycle: { ...data().cycle!, requestsPerCycle: 100, boundSeconds: 20, lastPollAt: NOW - 120_000 } });
    const text = section(renderStatusPage(slow), 'cycle');
    expect(text).toContain('longer than the interval');
    expect(text).toContain('stalled');
  });

  it('lists stalled lipsyncs with their age, transitions with reasons, failures and endpoint states', () => {
    const html = renderStatusPage(data());
    expect(section(html, 'stalled')).toContain(`${ID} in_queue 45 min`);
    expect(section(html, 'recent')).toContain(`30 s ago ${ID} running → failed face not found`);
    expect(section(html, 'failures')).toContain('face_detection 4');
    const endpoints = section(html, 'endpoints');
    expect(endpoints).toContain('billing open 5 3');
    expect(endpoints).toContain('crm disabled HTTP 410');
    expect(endpoints).toContain('Replay dead letters (3)');
  });

  it('says "not available" for a missing source and "none" for an empty one', () => {
    const html = renderStatusPage(data({ cycle: null, recent: null, failures: [], stalled: [], endpoints: null, counts: [] }));
    expect(section(html, 'cycle')).toContain('not available');
    expect(section(html, 'recent')).toContain('not available');
    expect(section(html, 'endpoints')).toContain('not available');
    expect(section(html, 'failures')).toContain('none');
    expect(section(html, 'stalled')).toContain('none');
    expect(section(html, 'counts')).toContain('none');
  });

  it('escapes every value that comes from data', () => {
    const evil = '<script>alert(1)</script>"\'&';
    const html = renderStatusPage(data({ recent: [{ id: evil, from: evil, to: evil, failedReason: evil, at: NOW }], endpoints: [{ name: evil, breaker: null, deadLetters: 0, queued: 0, disabled: evil }], counts: [{ status: evil, count: 1 }], version: evil }));
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain(escapeHtml(evil));
    expect(html.match(/<script>/g)).toHaveLength(1);
  });

  it('allows only its own script by hash', () => {
    expect(STATUS_PAGE_CSP).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*'/);
    expect(STATUS_PAGE_CSP).toContain("default-src 'none'");
  });
});

describe('formatAge', () => {
  it.each([
    [0, '0 s'],
    [119_000, '119 s'],
    [125_000, '2 min'],
    [3 * 3600_000 + 5 * 60_000, '3 h 5 min'],
    [50 * 3600_000, '2 d 2 h'],
    [-5000, '0 s'],
  ])('%d ms → %s', (ms, text) => expect(formatAge(ms)).toBe(text));
});
