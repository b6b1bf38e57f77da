/**
 * What a command runs against: environment, output lines and stdin. The real process by default;
 * tests inject their own so they stay parallel-safe. `useEnvTwins` makes each option's BURROW_* twin
 * read from the injected environment, with one meaning for boolean twins (1/true/yes or 0/false/no).
 */
import type { Command } from 'commander';
import { BurrowError } from '../errors.js';

export interface CliContext {
  env: NodeJS.ProcessEnv;
  /** One line of program output (stdout). */
  stdout: (line: string) => void;
  /** One line of explanation or warning (stderr). */
  stderr: (line: string) => void;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

/**
 * The real process's stdin is taken on first use: `process.stdin` builds its stream (and loads node:net
 * or node:tty) when first read, ~20 ms that `burrow --help` and most commands never need.
 */
export function cliContext(overrides: Partial<CliContext> = {}): CliContext {
  return {
    env: overrides.env ?? process.env,
    stdout: overrides.stdout ?? ((line) => console.log(line)),
    stderr: overrides.stderr ?? ((line) => console.error(line)),
    get stdin() {
      return overrides.stdin ?? process.stdin;
    },
  };
}

/**
 * Before `cmd`'s action runs, re-derive every option that was not given on the command line from `env`
 * (commander itself reads only process.env, and treats any value of a boolean twin as true).
 */
export function useEnvTwins(cmd: Command, env: NodeJS.ProcessEnv): Command {
  return cmd.hook('preAction', (_hooked, actionCommand) => {
    if (actionCommand === cmd) applyEnvTwins(cmd, env);
  });
}

function applyEnvTwins(cmd: Command, env: NodeJS.ProcessEnv): void {
  for (const option of cmd.options) {
    const key = option.attributeName();
    if (option.envVar === undefined || cmd.getOptionValueSource(key) === 'cli') continue;
    cmd.setOptionValueWithSource(key, option.defaultValue, 'default');
    const raw = env[option.envVar];
    if (raw === undefined) continue;
    if (option.isBoolean()) {
      if (parseBoolean(option.envVar, raw)) cmd.setOptionValueWithSource(key, !option.negate, 'env');
    } else {
      const value = option.parseArg ? option.parseArg(raw, option.defaultValue as unknown) : raw;
      cmd.setOptionValueWithSource(key, value, 'env');
    }
  }
}

function parseBoolean(name: string, raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['', '0', 'false', 'no', 'off'].includes(value)) return false;
  throw new BurrowError('ERR_USAGE', `${name} must be 1, true, yes or 0, false, no`);
}
