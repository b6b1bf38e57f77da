/** The "Examples:" block at the end of a command's --help: one place formats it the same everywhere. */
import type { Command } from 'commander';

export function withExamples(cmd: Command, ...examples: string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}`);
}
