#!/usr/bin/env node
/** The one `burrow` command: every role and admin task as a subcommand. Exit codes are the contract. */
import { Command, CommanderError } from 'commander';
import { registerClientCommands } from '../client/cli.js';
import { registerKeysCommands } from '../relay/cli-keys.js';
import { registerRelayCommand } from '../relay/cli.js';
import { registerUsersCommands } from '../relay/cli-users.js';
import { cliContext } from '../shared/cli/cli-context.js';
import { registerSecretCommand } from '../shared/cli/cli-secret.js';
import { BurrowError, exitCodeOf } from '../shared/errors.js';
import { registerSkeletonCommand } from '../skeleton/cli.js';
import { runDemo } from './demo.js';

export function buildProgram(): Command {
  const ctx = cliContext();
  const program = new Command('burrow')
    .description('reach servers behind NAT through a public relay, encrypted end to end')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.command('demo').description('relay, skeleton, a demo web server and a client forwarder on loopback').action(() => runDemo(ctx));
  registerKeysCommands(program);
  registerSecretCommand(program);
  registerUsersCommands(program);
  registerRelayCommand(program);
  registerSkeletonCommand(program);
  registerClientCommands(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

async function main(): Promise<number> {
  try {
    await buildProgram().parseAsync(process.argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; anything commander refuses is a usage error.
      return err.exitCode === 0 ? 0 : 2;
    }
    const message = err instanceof BurrowError ? `${err.message} [${err.code}]` : String((err as Error)?.message ?? err);
    console.error(`burrow: ${message}`);
    return exitCodeOf(err);
  }
}

process.exitCode = await main();
// Long-running commands return after their own shutdown; end now rather than wait on stray handles.
process.exit();
