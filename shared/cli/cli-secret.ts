/**
 * `burrow secret generate [--out FILE]`: a new 32-byte server secret, base64url. Printed on stdout, or with
 * --out written to a new file of mode 0600 (never overwritten) and not printed at all.
 */
import { Command, Option } from 'commander';
import { BurrowError } from '../errors.js';
import { writeFileAtomic } from '../write-file-atomic.js';
import { withExamples } from './help-examples.js';
import { COMMAND_SUMMARIES } from './command-summaries.js';
import { cliContext, useEnvTwins, type CliContext } from './cli-context.js';
import { generateSecret } from './secret-file.js';

export function registerSecretCommand(program: Command, overrides: Partial<CliContext> = {}): Command {
  const ctx = cliContext(overrides);
  const secret = withExamples(
    program.command('secret').description(COMMAND_SUMMARIES.secret.summary),
    'burrow secret generate --out home-http.secret',
  );

  const generate = withExamples(secret.command('generate'), 'burrow secret generate --out home-http.secret   # mode 0600, never overwritten', 'burrow secret generate                          # print it instead')
    .description('print a new 32-byte secret (base64url), or write it to a new file with --out')
    .addOption(new Option('--out <file>', 'write the secret to this new file (mode 0600) instead of printing it').env('BURROW_SECRET_OUT'))
    .action(async (opts: { out?: string }) => {
      const value = generateSecret();
      if (opts.out === undefined) {
        ctx.stdout(value.reveal());
        return;
      }
      await writeSecret(opts.out, value.reveal());
      ctx.stderr(`wrote a random secret (32 bytes, base64url) to ${opts.out} (mode 0600)`);
    });
  useEnvTwins(generate, ctx.env);
  return secret;
}

async function writeSecret(path: string, text: string): Promise<void> {
  try {
    await writeFileAtomic(path, text + '\n', { mode: 0o600, overwrite: false });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new BurrowError('ERR_USAGE', `${path} already exists; refusing to overwrite a secret`);
    throw new BurrowError('ERR_CONFIG', `cannot write ${path} (${code ?? 'error'})`);
  }
}
