/**
 * `burrow keys generate|fingerprint`: the relay identity. stdout carries only the fingerprint, one line,
 * so `fp=$(burrow keys generate)` works; explanations go to stderr.
 */
import { Command, Option } from 'commander';
import { withExamples } from '../shared/cli/help-examples.js';
import { cliContext, useEnvTwins, type CliContext } from '../shared/cli/cli-context.js';
import { generateRelayKeys, loadRelayPublicKey, relayKeyPaths } from '../shared/crypto/relay-key-files.js';

export const DEFAULT_KEYS_DIR = 'keys';

function dirOption(): Option {
  return new Option('--dir <dir>', 'directory of relay.key.jwk and relay.pub.jwk').env('BURROW_KEYS_DIR').default(DEFAULT_KEYS_DIR);
}

export function registerKeysCommands(program: Command, overrides: Partial<CliContext> = {}): Command {
  const ctx = cliContext(overrides);
  const keys = withExamples(
    program.command('keys').description("manage the relay's Ed25519 identity"),
    'burrow keys generate --dir /var/lib/burrow/keys',
    'burrow keys fingerprint --dir /var/lib/burrow/keys',
  );

  const generate = withExamples(keys.command('generate'), 'burrow keys generate --dir keys', 'fp=$(burrow keys generate --dir keys)   # stdout is only the fingerprint')
    .description('create a new relay key pair and print its fingerprint')
    .addOption(dirOption())
    .addOption(new Option('--force', 'replace an existing key pair (peers pinning the old fingerprint will refuse the relay)').env('BURROW_KEYS_FORCE'))
    .action(async (opts: { dir: string; force?: boolean }) => {
      const identity = await generateRelayKeys(opts.dir, { force: opts.force === true });
      const { privatePath, publicPath } = relayKeyPaths(opts.dir);
      ctx.stderr(`wrote ${privatePath} (private, keep it secret) and ${publicPath}`);
      ctx.stderr('give this fingerprint to skeletons and clients (--fingerprint):');
      ctx.stdout(identity.fingerprint);
    });
  useEnvTwins(generate, ctx.env);

  const fingerprint = withExamples(keys.command('fingerprint'), 'burrow keys fingerprint --dir /var/lib/burrow/keys')
    .description("print the relay's fingerprint (from relay.pub.jwk)")
    .addOption(dirOption())
    .action(async (opts: { dir: string }) => {
      const key = await loadRelayPublicKey(opts.dir);
      ctx.stdout(key.fingerprint);
    });
  useEnvTwins(fingerprint, ctx.env);

  return keys;
}
