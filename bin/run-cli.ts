/**
 * Runs the `burrow` command for `process.argv` with `commands` and exits. Exit codes are the contract
 * (shared/errors.ts).
 */
import { CommanderError } from 'commander';
import { BurrowError, exitCodeOf } from '../shared/errors.js';
import { buildProgram, type CommandTable } from './program.js';

async function main(commands: CommandTable): Promise<number> {
  try {
    await (await buildProgram(commands, process.argv)).parseAsync(process.argv);
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

/** Resolves once everything written to `stream` so far has been handed to the OS (or the reader went away). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    stream.once('error', () => resolve());
    stream.write('', () => resolve());
  });
}

/**
 * Runs the command and exits. No top-level await: the bundle is a CommonJS script (so that it can be
 * compiled from a V8 code cache, bin/bundle-entry.ts), which has none.
 */
export async function runCli(commands: CommandTable): Promise<void> {
  process.exitCode = await main(commands);
  // What is still queued for a pipe that reads slowly (a long `client list | ...`) goes out first:
  // process.exit() would drop it and exit 0 with the output cut.
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  // Long-running commands return after their own shutdown; end now rather than wait on stray handles.
  process.exit();
}

