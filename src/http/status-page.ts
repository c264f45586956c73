/**
 * Renders the status page (`GET /`) from StatusPageData: one self-contained HTML document, no front-end build.
 * Invariant: every value that comes from data is escaped (escapeHtml) before it reaches the markup, and the only
 * script is the constant REPLAY_SCRIPT, allowed by its hash in STATUS_PAGE_CSP (no inline script can be injected).
 * A `null` section renders "not available"; an empty one "none".
 */
import { createHash } from 'node:crypto';
import { KNOWN_STATUSES, UNSEEN_STATUS } from '../shared/status.js';
import type { CycleHealth, EndpointRow, StatusPageData } from './status-data.js';

/** Seconds between automatic reloads of the page. */
export const REFRESH_SECONDS = 10;

/** Asks for the write token, then replays every dead letter through the /v1 API; the token is never stored. */
const REPLAY_SCRIPT = `
const button = document.getElementById('replay');
const result = document.getElementById('replay-result');
button.addEventListener('click', async () => {
  const token = window.prompt('API token (LIPSYNC_SYNC_API_TOKEN) to replay all dead letters:');
  if (!token) return;
  result.textContent = 'replaying…';
  try {
    const res = await fetch('/v1/dead-letters/replay', { method: 'POST', headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' }, body: '{}' });
    const body = await res.json().catch(() => ({}));
    result.textContent = res.ok ? 'replayed ' + body.replayed + ' deliveries' : 'refused: HTTP ' + res.status + ' ' + (body.message || '');
  } catch (err) {
    result.textContent = 'request failed: ' + err;
  }
});`;

/** Content-Security-Policy for the page: no external resource, inline styles, and only REPLAY_SCRIPT may run. */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  "style-src 'unsafe-inline'",
  `script-src 'sha256-${createHash('sha256').update(REPLAY_SCRIPT).digest('base64')}'`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const STYLE = `
:root { --fg: #1d2330; --muted: #6b7385; --line: #e3e6ec; --bg: #f5f6f8; --card: #fff; --ok: #1f7a4d; --warn: #9a6700; --bad: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; padding: 16px 24px; background: var(--card); border-bottom: 1px solid var(--line); }
header h1 { font-size: 18px; margin: 0; }
header .meta { color: var(--muted); }
header nav { margin-left: auto; display: flex; gap: 14px; }
a { color: #2456c4; text-decoration: none; } a:hover { text-decoration: underline; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; padding: 16px 24px 32px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; min-width: 0; }
section.wide { grid-column: 1 / -1; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 0 0 10px; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 5px 8px 5px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12px; }
tr:last-child td { border-bottom: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
.none { color: var(--muted); font-style: italic; margin: 4px 0; }
.big { font-size: 28px; font-weight: 650; font-variant-numeric: tabular-nums; }
.tiles { display: flex; flex-wrap: wrap; gap: 8px; }
.tile { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; min-width: 88px; }
.tile .n { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
.tile .l { color: var(--muted); font-size: 12px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.ok { background: #e3f4ea; color: var(--ok); } .warn { background: #fdf1d6; color: var(--warn); } .bad { background: #fde4e1; color: var(--bad); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dt { color: var(--muted); } dd { margin: 0; font-variant-numeric: tabular-nums; }
button { font: inherit; padding: 6px 14px; border-radius: 6px; border: 1px solid #2456c4; background: #2456c4; color: #fff; cursor: pointer; }
.actions { display: flex; align-items: center; gap: 12px; margin-top: 12px; }
#replay-result { color: var(--muted); }
`;

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `42 s`, `3 min`, `2 h 5 min`, `3 d 4 h`: an age at a glance. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 120) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** Milliseconds under 1 s, one decimal under 10 s, whole seconds above. */
function seconds(value: number): string {
  if (value < 1) return `${Math.round(value * 1000)} ms`;
  return value < 10 ? `${value.toFixed(1)} s` : `${Math.round(value)} s`;
}

function none(text = 'none'): string {
  return `<p class="none">${text}</p>`;
}

const NOT_AVAILABLE = none('not available');

function table(head: string[], rows: string[][], numeric: ReadonlySet<number> = new Set()): string {
  const cell = (tag: 'th' | 'td', value: string, i: number): string => `<${tag}${numeric.has(i) ? ' class="num"' : ''}>${value}</${tag}>`;
  return `<table><thead><tr>${head.map((h, i) => cell('th', escapeHtml(h), i)).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((v, i) => cell('td', v, i)).join('')}</tr>`).join('')}</tbody></table>`;
}

/** Lifecycle order for the known statuses, then the rest by count. */
function statusOrder(status: string): number {
  const known = [UNSEEN_STATUS, ...KNOWN_STATUSES].indexOf(status);
  return known === -1 ? Number.MAX_SAFE_INTEGER : known;
}

function countsSection(data: StatusPageData): string {
  const total = data.counts.reduce((sum, c) => sum + c.count, 0);
  const ordered = [...data.counts].sort((a, b) => statusOrder(a.status) - statusOrder(b.status));
  const tiles = ordered.map((c) => `<div class="tile" data-status="${escapeHtml(c.status)}"><div class="n">${c.count}</div><div class="l">${escapeHtml(c.status)}</div></div>`).join('');
  return `<section id="counts"><h2>Tracked lipsyncs</h2><div class="big" id="total-pending">${total}</div><p class="none" style="font-style:normal;margin-top:0">pending (not yet terminal)</p>${total === 0 ? none() : `<div class="tiles">${tiles}</div>`}</section>`;
}

function cycleSection(cycle: CycleHealth | null, now: number): string {
  if (cycle === null) return `<section id="cycle"><h2>Poll cycle</h2>${NOT_AVAILABLE}</section>`;
  const fits = cycle.boundSeconds <= cycle.intervalSeconds;
  const lastPoll = cycle.lastPollAt === null ? 'never' : `${formatAge(now - cycle.lastPollAt)} ago`;
  const pollAge = cycle.lastPollAt === null ? Infinity : (now - cycle.lastPollAt) / 1000;
  const pollBadge = pollAge <= 3 * cycle.intervalSeconds ? '<span class="badge ok">polling</span>' : '<span class="badge bad">stalled</span>';
  const running = cycle.outstandingBatches > 0 && cycle.cycleStartedAt !== null ? `running for ${formatAge(now - cycle.cycleStartedAt)}, ${cycle.outstandingBatches} batches left` : 'idle';
  return `<section id="cycle"><h2>Poll cycle</h2><dl>
<dt>Last poll</dt><dd>${lastPoll} ${pollBadge}</dd>
<dt>Last cycle time</dt><dd>${cycle.lastCycleSeconds === null ? '—' : seconds(cycle.lastCycleSeconds)} (interval ${seconds(cycle.intervalSeconds)})</dd>
<dt>Current cycle</dt><dd>${running}</dd>
<dt>Requests per cycle</dt><dd>${cycle.requestsPerCycle} at ${cycle.maxRequestsPerSecond} req/s → needs ≥ ${seconds(cycle.boundSeconds)} <span class="badge ${fits ? 'ok' : 'warn'}">${fits ? 'fits the interval' : 'longer than the interval'}</span></dd>
<dt>${cycle.outstandingBatches > 0 ? 'This cycle so far' : 'Last cycle'}</dt><dd>${cycle.cycleIds} ids answered, ${cycle.cycleEvents} events, ${cycle.cycleFailedBatches} failed batches</dd>
</dl></section>`;
}

function stalledSection(data: StatusPageData): string {
  const body = data.stalled === null ? NOT_AVAILABLE : data.stalled.length === 0 ? none() : table(['Lipsync', 'Status', 'Stalled for'], data.stalled.map((s) => [`<code>${escapeHtml(s.id)}</code>`, escapeHtml(s.status), formatAge(data.now - s.since)]), new Set([2]));
  return `<section id="stalled"><h2>Stalled lipsyncs</h2>${body}</section>`;
}

function recentSection(data: StatusPageData): string {
  const body =
    data.recent === null
      ? NOT_AVAILABLE
      : data.recent.length === 0
        ? none()
        : table(['When', 'Lipsync', 'Change', 'Failure reason'], data.recent.map((t) => [`${formatAge(data.now - t.at)} ago`, `<code>${escapeHtml(t.id)}</code>`, `${escapeHtml(t.from)} → ${escapeHtml(t.to)}`, escapeHtml(t.failedReason ?? '')]));
  return `<section id="recent" class="wide"><h2>Recent transitions</h2>${body}</section>`;
}

function failuresSection(data: StatusPageData): string {
  const body = data.failures === null ? NOT_AVAILABLE : data.failures.length === 0 ? none() : table(['Reason class', 'Failures'], data.failures.map((f) => [escapeHtml(f.reasonClass), String(f.count)]), new Set([1]));
  return `<section id="failures"><h2>Failures by class <span style="text-transform:none">(this replica, since start)</span></h2>${body}</section>`;
}

const BREAKER = ['<span class="badge ok">closed</span>', '<span class="badge warn">half-open</span>', '<span class="badge bad">open</span>'] as const;

function endpointState(row: EndpointRow): string {
  if (row.disabled !== null) return `<span class="badge bad">disabled</span> ${escapeHtml(row.disabled)}`;
  return row.breaker === null ? '—' : BREAKER[row.breaker];
}

function endpointsSection(data: StatusPageData): string {
  const rows = data.endpoints;
  const body = rows === null ? NOT_AVAILABLE : rows.length === 0 ? none('none configured') : table(['Endpoint', 'Breaker', 'Queued', 'Dead letters'], rows.map((r) => [escapeHtml(r.name), endpointState(r), String(r.queued), String(r.deadLetters)]), new Set([2, 3]));
  const dead = (rows ?? []).reduce((sum, r) => sum + r.deadLetters, 0);
  return `<section id="endpoints"><h2>Webhook endpoints</h2>${body}<div class="actions"><button id="replay" type="button">Replay dead letters (${dead})</button><span id="replay-result" role="status"></span></div></section>`;
}

export function renderStatusPage(data: StatusPageData): string {
  const generated = new Date(data.now).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${REFRESH_SECONDS}">
<title>lipsync-sync status</title><style>${STYLE}</style></head>
<body><header><h1>lipsync-sync</h1><span class="meta">v${escapeHtml(data.version)} · ${generated} · reloads every ${REFRESH_SECONDS} s</span>
<nav><a href="/metrics">metrics</a><a href="/readyz">readiness</a><a href="/admin/queues">queues (token)</a></nav></header>
<main>
${countsSection(data)}
${cycleSection(data.cycle, data.now)}
${stalledSection(data)}
${endpointsSection(data)}
${failuresSection(data)}
${recentSection(data)}
</main>
<script>${REPLAY_SCRIPT}</script>
</body></html>`;
}
