/**
 * Runs `burrow client ...` in-process with an injected environment, stdin and output lines, so a test
 * can play a terminal (a stdin with isTTY) and read what a user would see.
 */
import { Command } from 'commander';
import { Readable } from 'node:stream';
import { registerClientCommands } from '../../client/cli.js';
import type { CliContext } from '../../shared/cli/cli-context.js';

export interface InProcessRun {
  stdout: string[];
  stderr: string[];
}

/** A stdin that says it is a terminal and answers with `text`. */
export function ttyInput(text: string): NodeJS.ReadableStream & { isTTY: boolean } {
  return Object.assign(Readable.from([Buffer.from(text)]), { isTTY: true });
}

export async function runClient(args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: CliContext['stdin'] } = {}): Promise<InProcessRun> {
  const out: InProcessRun = { stdout: [], stderr: [] };
  const ctx: Partial<CliContext> = {
    env: opts.env ?? {},
    stdout: (line) => out.stdout.push(line),
    stderr: (line) => out.stderr.push(line),
    stdin: opts.stdin ?? Readable.from([]),
  };
  const program = new Command().exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
  registerClientCommands(program, ctx);
  for (const c of program.commands) c.exitOverride();
  await program.parseAsync(['client', ...args], { from: 'user' });
  return out;
}
