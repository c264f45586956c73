/** Command-line parsing: node:util parseArgs over the options of ./usage.ts, with one-line usage errors. */
import { parseArgs } from 'node:util';
import { LsyncError, messageOf } from '../errors.js';
import type { Options } from './usage.js';

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** node:util parseArgs (`options` include the common ones), with its errors turned into usage errors (exit 2) that name the command. */
export function parse(command: string, argv: string[], options: Options): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as Parsed['values'], positionals };
  } catch (err) {
    const detail = messageOf(err).split('\n')[0];
    throw new LsyncError('LSYNC_ERR_USAGE', `${command}: ${detail}; see lipsync-sync ${command} --help`);
  }
}

export function str(values: Parsed['values'], name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}
