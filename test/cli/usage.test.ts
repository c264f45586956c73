import { describe, expect, it } from '@jest/globals';
import { parse } from '../../src/cli/args.js';
import { COMMANDS, commandHelp, isCommand, mainHelp, parseOptions, type CommandName } from '../../src/cli/usage.js';

const NAMES = Object.keys(COMMANDS) as CommandName[];

describe('CLI usage table', () => {
  it('every option a command parses appears in its --help, with its short form', () => {
    for (const name of NAMES) {
      const help = commandHelp(name);
      for (const [option, config] of Object.entries(parseOptions(name))) {
        expect([name, help.includes(`--${option}`)]).toEqual([name, true]);
        if (config.short !== undefined) expect([name, help.includes(`-${config.short}, --${option}`)]).toEqual([name, true]);
      }
    }
  });

  it('lists every command in the main help, and each help starts with its usage line', () => {
    const main = mainHelp();
    for (const name of NAMES) {
      expect(main).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
      expect(commandHelp(name).startsWith(`Usage: lipsync-sync ${name}`)).toBe(true);
    }
  });

  it('parses the documented options and refuses undocumented ones with a usage error', () => {
    expect(parse('list', ['--status', 'running', '--json', '-c', 'x.yaml'], parseOptions('list')).values).toEqual({ status: 'running', json: true, config: 'x.yaml' });
    expect(() => parse('list', ['--colour'], parseOptions('list'))).toThrow(/list: .*--colour.*see lipsync-sync list --help/);
    expect(() => parse('secret', ['--json'], parseOptions('secret'))).toThrow(/secret:/);
  });

  it('knows its commands and nothing else', () => {
    expect(isCommand('list')).toBe(true);
    expect(isCommand('toString')).toBe(false);
    expect(isCommand('frobnicate')).toBe(false);
  });
});
