/**
 * The CLI's commands and options with their help text: the one table both the parser (node:util parseArgs
 * options) and `--help` are derived from, so an option cannot be parsed without appearing in the help, nor
 * documented without being parsed.
 */
import type { ParseArgsConfig } from 'node:util';

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The value's placeholder in help, for string options, e.g. `<path>`. */
  value?: string;
  help: string;
}

export interface CommandSpec {
  /** Positional arguments as shown in help, e.g. `<id...>`. */
  args?: string;
  /** One line in the command list of `lipsync-sync --help`. */
  summary: string;
  /** The paragraph under the usage line of `lipsync-sync <command> --help`. */
  description: string;
  options: Record<string, OptionSpec>;
}

/** Accepted by every command. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  config: { type: 'string', short: 'c', value: '<path>', help: 'config file (default: LIPSYNC_SYNC_CONFIG, then config/default.yaml)' },
  help: { type: 'boolean', short: 'h', help: 'this help' },
};

export const COMMANDS = {
  run: {
    summary: 'worker + scheduler + HTTP (metrics, health, /v1 API)',
    description: `Runs the worker: the poll scheduler, batch polling, webhook delivery and the HTTP server
(GET /metrics, /healthz, /readyz and the /v1 API on http.port, default 9464).
Needs CREATIFY_API_ID and CREATIFY_API_KEY (or creatify.simulator: true). SIGTERM/SIGINT stop it gracefully.`,
    options: {},
  },
  track: {
    args: '<id...>',
    summary: 'start tracking lipsync ids (or one per line on stdin)',
    description: `Tracks lipsync UUIDs; with no ids on the command line, reads one per line from stdin
(some-command | lipsync-sync track). Prints one line per id: tracked, already tracked, or already terminal.
Invalid ids exit 2 and nothing is tracked.`,
    options: {},
  },
  untrack: {
    args: '<id...>',
    summary: 'stop tracking ids',
    description: 'Stops polling the ids. Their last state is kept for poll.terminalRetentionSeconds.',
    options: {},
  },
  status: {
    args: '<id>',
    summary: 'last known state of one lipsync',
    description: `Shows the last known state of one lipsync: status, progress, failed reason, timestamps, events emitted.
Exit 1 when the id is unknown.`,
    options: { json: { type: 'boolean', help: 'the stored record as JSON' } },
  },
  list: {
    summary: 'tracked ids with their last status',
    description: "Lists tracked (pending) ids with their last seen status; 'new' means not answered yet.",
    options: {
      status: { type: 'string', value: '<status>', help: 'only ids whose last status is this (case-insensitive)' },
      limit: { type: 'string', value: '<n>', help: 'at most n ids (default 1000)' },
      json: { type: 'boolean', help: 'one JSON array of {id, status}' },
    },
  },
  'replay-dead-letters': {
    summary: 're-deliver dead-lettered webhook deliveries',
    description: `Moves dead-lettered deliveries back into the delivery queue (all endpoints, or one) and re-enables an
endpoint disabled by HTTP 410. A running worker delivers them.`,
    options: { endpoint: { type: 'string', value: '<name>', help: 'only this configured endpoint' } },
  },
  secret: {
    summary: 'print a new webhook secret (whsec_…)',
    description: 'Prints a new random webhook signing secret in the Standard Webhooks format whsec_<base64>.',
    options: {},
  },
  demo: {
    summary: 'everything on this machine: private Redis, Creatify simulator, webhook receiver',
    description: `Starts everything on this machine with no setup: connects to REDIS_URL if set, else starts a private
redis-server; starts the Creatify simulator with lipsyncs on random timelines, a local webhook receiver that
verifies signatures, and the daemon polling every 2 s. Prints a live view every 2 s (pending by status, webhooks
and events/s, stalled, dead letters, the status page URL). Stops on Ctrl-C, or after --duration.`,
    options: {
      count: { type: 'string', value: '<n>', help: 'lipsyncs in the simulator (default 500)' },
      duration: { type: 'string', value: '<seconds>', help: 'stop after this long (default: run until Ctrl-C)' },
      port: { type: 'string', value: '<n>', help: 'HTTP port of the daemon (default: PORT, then 9464)' },
      verbose: { type: 'boolean', help: 'also print each received webhook and the daemon\'s info log' },
    },
  },
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

export function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/** The parseArgs options of a command: its own plus the common ones. */
export function parseOptions(name: CommandName): Options {
  const specs: Record<string, OptionSpec> = { ...COMMANDS[name].options, ...COMMON_OPTIONS };
  return Object.fromEntries(
    Object.entries(specs).map(([option, spec]) => [option, spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short }]),
  );
}

const EXIT_CODES = 'Exit codes: 0 ok, 1 failure, 2 bad usage or input, 78 bad configuration.';
const COLUMN = 27;

function flag(option: string, spec: OptionSpec): string {
  return `--${option}${spec.value === undefined ? '' : ` ${spec.value}`}`;
}

function optionLines(specs: Record<string, OptionSpec>): string[] {
  return Object.entries(specs).map(([option, spec]) => {
    const left = `${spec.short === undefined ? '    ' : `-${spec.short}, `}${flag(option, spec)}`;
    return `  ${left.padEnd(COLUMN - 2)} ${spec.help}`;
  });
}

const COMMON_HELP = ['Options for every command:', ...optionLines(COMMON_OPTIONS), '', EXIT_CODES].join('\n');

/** `lipsync-sync --help`. */
export function mainHelp(): string {
  const commands = Object.entries(COMMANDS).map(([name, spec]: [string, CommandSpec]) => {
    const left = `${name}${spec.args === undefined ? '' : ` ${spec.args}`}`;
    return `  ${left.padEnd(COLUMN - 2)} ${spec.summary}`;
  });
  return [
    'lipsync-sync — keep your systems in sync with Creatify lipsync jobs',
    '',
    'Usage: lipsync-sync <command> [options]',
    '',
    'Commands:',
    ...commands,
    '',
    "Run 'lipsync-sync <command> --help' for a command's options.",
    '',
    COMMON_HELP,
  ].join('\n');
}

/** `lipsync-sync <command> --help`. */
export function commandHelp(name: CommandName): string {
  const spec: CommandSpec = COMMANDS[name];
  const flags = Object.entries(spec.options).map(([option, o]) => ` [${flag(option, o)}]`);
  const lines = [`Usage: lipsync-sync ${name}${spec.args === undefined ? '' : ` ${spec.args}`}${flags.join('')}`, '', spec.description];
  if (Object.keys(spec.options).length > 0) lines.push('', 'Options:', ...optionLines(spec.options));
  return [...lines, '', COMMON_HELP].join('\n');
}
