#!/usr/bin/env -S node --max-semi-space-size=4 --max-old-space-size=128
/** The `lipsync-sync` entry point: finds the command in the table of ./usage.ts, parses its options, runs it. */
// The V8 flags above (and in `npm start` and the image) hold a busy worker near 120 MB RSS instead of 160–250 MB:
// V8 otherwise lets garbage grow well past the ~30 MB the worker actually keeps (README "Tests and benchmark").
import { EXIT, formatError, isLsyncError } from '../errors.js';
import { parse, type Parsed } from './args.js';
import { commandHelp, isCommand, mainHelp, parseOptions, type CommandName } from './usage.js';
import { packageVersion } from '../version.js';

type Handler = (parsed: Parsed, out: (line: string) => void) => Promise<number>;

// Command modules load lazily: `track` or `status` should not pay for BullMQ and fastify at start-up.
const commands = (name: 'track' | 'untrack' | 'status' | 'list' | 'replay' | 'secret'): Handler => async (p, out) => (await import('./commands.js'))[name](p, out);

const HANDLERS: Record<CommandName, Handler> = {
  run: async (p) => (await import('./run.js')).run(p),
  track: commands('track'),
  untrack: commands('untrack'),
  status: commands('status'),
  list: commands('list'),
  'replay-dead-letters': commands('replay'),
  secret: commands('secret'),
  demo: async (p) => (await import('./demo.js')).demo(p),
};

async function main(argv: string[]): Promise<number> {
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out(mainHelp());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    out(packageVersion());
    return EXIT.ok;
  }
  if (!isCommand(name)) {
    process.stderr.write(`LSYNC_ERR_USAGE: unknown command "${name}"; run lipsync-sync --help for the list\n`);
    return EXIT.usage;
  }
  const parsed = parse(name, rest, parseOptions(name));
  if (parsed.values['help'] === true) {
    out(commandHelp(name));
    return EXIT.ok;
  }
  return HANDLERS[name](parsed, out);
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
