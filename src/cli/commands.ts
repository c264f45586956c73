import { createInterface } from 'node:readline';
import { parseLipsyncId } from '../creatify/ids.js';
import { LsyncError } from '../errors.js';
import type { LipsyncRecord } from '../store/tracking.js';
import { generateSecret } from '../webhooks/secret.js';
import { str, type Parsed } from './args.js';
import { openStore, type StoreContext } from './context.js';

type Out = (line: string) => void;

/** Ids per stdin chunk: one validation + one pipelined write per chunk. */
const STDIN_CHUNK = 10_000;

async function withStore<T>(values: Parsed['values'], fn: (ctx: StoreContext) => Promise<T>): Promise<T> {
  const ctx = await openStore(str(values, 'config'));
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

/** Validates every id before touching Redis: one bad id means nothing is written (exit 2). */
function parseIds(raw: readonly string[]): string[] {
  if (raw.length === 0) throw new LsyncError('LSYNC_ERR_USAGE', 'no ids given; pass UUIDs as arguments or one per line on stdin');
  return raw.map((id, i) => parseLipsyncId(id, raw.length === 1 ? 'id' : `ids[${i}] (argument ${i + 1})`));
}

/** Stdin ids in chunks, so tracking a million ids from a pipe keeps memory flat. Blank lines and # comments skip. */
async function* stdinChunks(size: number): AsyncGenerator<Array<{ id: string; line: number }>> {
  let chunk: Array<{ id: string; line: number }> = [];
  let line = 0;
  for await (const raw of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    line += 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    chunk.push({ id: trimmed, line });
    if (chunk.length >= size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

const TRACK_WORDS = { tracked: 'tracked', already: 'already tracked', terminal: 'already terminal (not re-polled)' } as const;

export async function track(parsed: Parsed, out: Out): Promise<number> {
  if (parsed.positionals.length > 0) {
    // Arguments are all validated first: one bad id means nothing is written.
    const ids = parseIds(parsed.positionals);
    const codes = await withStore(parsed.values, (ctx) => ctx.store.track(ids));
    for (const [id, code] of codes) out(`${id}  ${TRACK_WORDS[code]}`);
    return 0;
  }
  if (process.stdin.isTTY) throw new LsyncError('LSYNC_ERR_USAGE', 'no ids given; pass UUIDs as arguments or one per line on stdin');
  let done = 0;
  await withStore(parsed.values, async (ctx) => {
    for await (const chunk of stdinChunks(STDIN_CHUNK)) {
      // Each chunk is validated before it is written, so the error says exactly what was and was not tracked.
      const ids = chunk.map(({ id, line }) => {
        try {
          return parseLipsyncId(id, `stdin line ${line}`);
        } catch (err) {
          if (err instanceof LsyncError) throw new LsyncError(err.code, `${err.message}; ${done} id(s) before this chunk were tracked, nothing after`, { field: err.field ?? 'id' });
          throw err;
        }
      });
      for (const [id, code] of await ctx.store.track(ids)) out(`${id}  ${TRACK_WORDS[code]}`);
      done += ids.length;
    }
  });
  if (done === 0) throw new LsyncError('LSYNC_ERR_USAGE', 'no ids on stdin; give one UUID per line');
  return 0;
}

export async function untrack(parsed: Parsed, out: Out): Promise<number> {
  const ids = parseIds(parsed.positionals);
  const codes = await withStore(parsed.values, (ctx) => ctx.store.untrack(ids));
  for (const [id, code] of codes) out(`${id}  ${code === 'untracked' ? 'untracked' : 'was not tracked'}`);
  return 0;
}

export async function status(parsed: Parsed, out: Out): Promise<number> {
  if (parsed.positionals.length !== 1) throw new LsyncError('LSYNC_ERR_USAGE', 'status takes exactly one id; see lipsync-sync status --help');
  const id = parseLipsyncId(parsed.positionals[0], 'id');
  const record = await withStore(parsed.values, (ctx) => ctx.store.get(id));
  if (record === null) throw new LsyncError('LSYNC_ERR_NOT_FOUND', `${id}: not tracked and no stored state; track it with lipsync-sync track ${id}`, { field: 'id' });
  if (parsed.values['json'] === true) out(JSON.stringify(record, null, 2));
  else table(recordRows(record)).forEach(out);
  return 0;
}

export async function list(parsed: Parsed, out: Out): Promise<number> {
  const limit = Number(str(parsed.values, 'limit') ?? '1000');
  if (!Number.isInteger(limit) || limit < 1) throw new LsyncError('LSYNC_ERR_USAGE', '--limit: must be a positive whole number');
  const wanted = str(parsed.values, 'status');
  const items = await withStore(parsed.values, async (ctx) => {
    const found: Array<{ id: string; status: string }> = [];
    let cursor = '0';
    do {
      const page = await ctx.store.listPending({ cursor, count: 500, ...(wanted === undefined ? {} : { status: wanted }) });
      found.push(...page.items);
      cursor = page.cursor;
    } while (cursor !== '0' && found.length < limit);
    return found.slice(0, limit);
  });
  if (parsed.values['json'] === true) out(JSON.stringify(items));
  else items.forEach((item) => out(`${item.id}  ${item.status}`));
  return 0;
}

export async function replay(parsed: Parsed, out: Out): Promise<number> {
  const endpoint = str(parsed.values, 'endpoint');
  const { DeadLetters } = await import('../webhooks/dead-letters.js'); // BullMQ only for this command
  const result = await withStore(parsed.values, async (ctx) => {
    const total = { replayed: 0, skipped: new Set<string>() };
    for (const keys of ctx.partitions) {
      const part = await DeadLetters.using({ ...ctx, keys }, (letters) => letters.replay(endpoint));
      total.replayed += part.replayed;
      part.skipped.forEach((name) => total.skipped.add(name));
    }
    return { replayed: total.replayed, skipped: [...total.skipped] };
  });
  out(`replayed ${result.replayed} dead-lettered deliver${result.replayed === 1 ? 'y' : 'ies'}${endpoint === undefined ? '' : ` for ${endpoint}`}`);
  // Letters of endpoints no longer in the config stay put: say so rather than report a silent 0.
  if (result.skipped.length > 0) out(`kept the dead letters of unconfigured endpoint(s) ${result.skipped.join(', ')}; add them to webhooks[] to replay`);
  return 0;
}

export async function secret(_parsed: Parsed, out: Out): Promise<number> {
  out(generateSecret());
  return 0;
}

function recordRows(r: LipsyncRecord): Array<[string, string]> {
  return [
    ['id', r.id],
    ['tracking', r.pending ? 'pending (polled)' : r.terminal ? 'terminal (no longer polled)' : 'not polled'],
    ['status', r.status ?? '(not seen yet)'],
    ['progress', r.progress ?? '-'],
    ['failed_reason', r.failed_reason ?? '-'],
    ['updated_at', r.updated_at ?? '-'],
    ['tracked_at', r.tracked_at ?? '-'],
    ['first_seen_at', r.first_seen_at ?? '-'],
    ['last_seen_at', r.seen_at ?? '-'],
    ['events', String(r.events)],
    ['missed_cycles', String(r.missed_cycles)],
  ];
}

function table(rows: Array<[string, string]>): string[] {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
}
