#!/usr/bin/env node
import { EXIT, formatError, isLsyncError } from '../errors.js';
import { parse, type Options } from './args.js';
import { HELP } from './help.js';
import { packageVersion } from '../version.js';
import type { Parsed } from './args.js';

type Handler = (parsed: Parsed, out: (line: string) => void) => Promise<number>;

// Command modules load lazily: `track` or `status` should not pay for BullMQ and fastify at start-up.
const commands = (name: 'track' | 'untrack' | 'status' | 'list' | 'replay' | 'secret'): Handler => async (p, out) => (await import('./commands.js'))[name](p, out);

const COMMANDS: Record<string, { options: Options; handler: Handler }> = {
  run: { options: {}, handler: async (p) => (await import('./run.js')).run(p) },
  track: { options: {}, handler: commands('track') },
  untrack: { options: {}, handler: commands('untrack') },
  status: { options: { json: { type: 'boolean' } }, handler: commands('status') },
  list: { options: { status: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } }, handler: commands('list') },
  'replay-dead-letters': { options: { endpoint: { type: 'string' } }, handler: commands('replay') },
  secret: { options: {}, handler: commands('secret') },
  demo: { options: { count: { type: 'string' }, duration: { type: 'string' }, port: { type: 'string' } }, handler: async (p) => (await import('./demo.js')).demo(p) },
};

async function main(argv: string[]): Promise<number> {
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out(HELP['main'] ?? '');
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    out(packageVersion());
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`LSYNC_ERR_USAGE: unknown command "${name}"; run lipsync-sync --help for the list\n`);
    return EXIT.usage;
  }
  const parsed = parse(name, rest, command.options);
  if (parsed.values['help'] === true) {
    out(HELP[name] ?? '');
    return EXIT.ok;
  }
  return command.handler(parsed, out);
}

main(process.argv.slice(2)).then(
  (code) => {
    // Exit explicitly: a lingering socket must not keep a finished command alive (stdout pipes are synchronous on Linux).
    process.exit(code);
  },
  (err: unknown) => {
    // A user error is one line; only a real bug earns a stack trace.
    process.stderr.write(`${isLsyncError(err) ? formatError(err) : (err instanceof Error ? err.stack ?? err.message : String(err))}\n`);
    process.exit(isLsyncError(err) ? err.exitCode : EXIT.failure);
  },
);
