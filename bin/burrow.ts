#!/usr/bin/env -S node --initial-old-space-size=64
/**
 * The one `burrow` command: every role and admin task as a subcommand. Exit codes are the contract.
 * The shebang starts node with NODE_FLAGS (bin/node-flags.ts says why); `env -S` splits them off.
 */
import { CommanderError } from 'commander';
import { BurrowError, exitCodeOf } from '../shared/errors.js';
import { buildProgram } from './program.js';

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
