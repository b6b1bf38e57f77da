/**
 * `burrow keys generate|fingerprint`: the relay identity. stdout carries only the fingerprint, one line,
 * so `fp=$(burrow keys generate)` works; explanations go to stderr.
 */
import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { BurrowError } from '../shared/errors.js';
import { withExamples } from '../shared/cli/help-examples.js';
import { COMMAND_SUMMARIES } from '../shared/cli/command-summaries.js';
import { cliContext, useEnvTwins, type CliContext } from '../shared/cli/cli-context.js';
import { generateRelayKeys, loadRelayPublicKey, relayKeyPaths } from '../shared/crypto/relay-key-files.js';

export const DEFAULT_KEYS_DIR = 'keys';

function dirOption(): Option {
  return new Option('--dir <dir>', `directory of relay.key.jwk and relay.pub.jwk (else BURROW_KEYS_DIR, else the relay's BURROW_KEYS, else ${DEFAULT_KEYS_DIR})`);
}

/**
 * --dir, else BURROW_KEYS_DIR, else BURROW_KEYS: the variable `burrow relay --keys` reads, so one
 * variable set for the relay also serves `burrow keys`. Both set to different directories is an error:
 * the fingerprint printed would not be the relay's.
 */
function keysDir(dir: string | undefined, env: NodeJS.ProcessEnv): string {
  if (dir !== undefined) return dir;
  const own = env.BURROW_KEYS_DIR || undefined;
  const relay = env.BURROW_KEYS || undefined;
  if (own !== undefined && relay !== undefined && resolve(own) !== resolve(relay)) {
    throw new BurrowError('ERR_USAGE', `BURROW_KEYS_DIR=${own} and BURROW_KEYS=${relay} name different key directories (burrow keys reads the first, burrow relay the second): unset one, or pass --dir`);
  }
  return own ?? relay ?? DEFAULT_KEYS_DIR;
}

export function registerKeysCommands(program: Command, overrides: Partial<CliContext> = {}): Command {
  const ctx = cliContext(overrides);
  const keys = withExamples(
    program.command('keys').description(COMMAND_SUMMARIES.keys.summary),
    'burrow keys generate --dir /var/lib/burrow/keys',
    'burrow keys fingerprint --dir /var/lib/burrow/keys',
  );

  const generate = withExamples(keys.command('generate'), 'burrow keys generate --dir keys', 'fp=$(burrow keys generate --dir keys)   # stdout is only the fingerprint')
    .description('create a new relay key pair and print its fingerprint')
    .addOption(dirOption())
    .addOption(new Option('--force', 'replace an existing key pair (peers pinning the old fingerprint will refuse the relay)').env('BURROW_KEYS_FORCE'))
    .action(async (opts: { dir?: string; force?: boolean }) => {
      const dir = keysDir(opts.dir, ctx.env);
      const identity = await generateRelayKeys(dir, { force: opts.force === true });
      const { privatePath, publicPath } = relayKeyPaths(dir);
      ctx.stderr(`wrote ${privatePath} (private, keep it secret) and ${publicPath}`);
      ctx.stderr('give this fingerprint to skeletons and clients (--fingerprint):');
      ctx.stdout(identity.fingerprint);
    });
  useEnvTwins(generate, ctx.env);

  const fingerprint = withExamples(keys.command('fingerprint'), 'burrow keys fingerprint --dir /var/lib/burrow/keys')
    .description("print the relay's fingerprint (from relay.pub.jwk)")
    .addOption(dirOption())
    .action(async (opts: { dir?: string }) => {
      const key = await loadRelayPublicKey(keysDir(opts.dir, ctx.env));
      ctx.stdout(key.fingerprint);
    });
  useEnvTwins(fingerprint, ctx.env);

  return keys;
}
