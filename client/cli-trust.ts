/**
 * `burrow client trust HOST:PORT`: learn a relay's fingerprint, show it, and after confirmation pin it
 * in the known-relays file that client commands and the skeleton read when --fingerprint is absent.
 * By default the key comes from the Hello of the relay's client or skeleton port (no admin port needed);
 * `--http` reads it from the admin port's /.well-known/burrow/ URLs instead and pins both relay ports.
 * A pin that differs from what the relay now shows is never replaced silently: exit 3 unless --replace.
 */
import { Option, type Command } from 'commander';
import { confirm } from '../shared/cli/confirm.js';
import { withExamples } from '../shared/cli/help-examples.js';
import { knownRelaysDefault, KNOWN_RELAYS_OPTION, knownRelaysPathOf } from '../shared/cli/peer-options.js';
import type { CliContext } from '../shared/cli/cli-context.js';
import { addOptions, CONFIG_OPTION, configOrPrint } from '../shared/config/command-options.js';
import { option } from '../shared/config/option-spec.js';
import { BurrowError } from '../shared/errors.js';
import { findKnownRelay, parseKnownRelays, relayKey, withPin } from '../shared/peer/known-relays.js';
import { readKnownRelaysText, writeKnownRelays } from '../shared/peer/known-relays-file.js';
import { parseHostPort } from '../shared/peer/relay-address.js';
import { probeRelayIdentity } from '../shared/peer/relay-identity-probe.js';
import type { RelayTarget } from '../shared/peer/relay-address.js';
import { isRelayUrl, parseRelayAddress } from '../shared/peer/relay-url.js';
import { transportOf } from '../shared/cli/transport-options.js';
import { fetchWellKnownIdentity } from '../shared/peer/well-known-identity.js';

export const TRUST_OPTIONS = [
  CONFIG_OPTION,
  KNOWN_RELAYS_OPTION,
  option('--http', 'bool', "read the key from the relay's admin port (HOST:PORT is then the admin address) over HTTP", { default: false }),
  option('--pin-host <host>', 'string', 'with --http: the relay host name to pin the ports under (default: the host of HOST:PORT, wrong through an ssh tunnel)'),
  option('--timeout <seconds>', 'int', 'how long to wait for the relay', { default: 10, min: 1, max: 300 }),
];

const EXAMPLES = [
  'burrow client trust relay.example.net:7000            # from the client port\'s greeting',
  'burrow client trust relay.example.net:7001            # on the skeleton host: the skeleton port',
  'burrow client trust 127.0.0.1:7002 --http --pin-host relay.example.net   # admin port through ssh -L',
  'burrow client trust relay.example.net:7000 --replace  # after the relay\'s key was rotated',
];

interface Learned {
  fingerprint: string;
  /** Relay addresses (HOST:PORT keys) to pin. */
  addresses: string[];
  from: string;
}

async function learn(target: string, http: boolean, timeoutMs: number, pinHost: string | undefined, via: Pick<RelayTarget, 'ws' | 'proxy'> = {}): Promise<Learned> {
  const { host, port } = parseRelayAddress(target, 'trust');
  if (pinHost !== undefined && !http) throw new BurrowError('ERR_USAGE', '--pin-host needs --http (the greeting pins the address it was read from)');
  if (!http) {
    const probed = await probeRelayIdentity(host, port, timeoutMs, via);
    return { fingerprint: probed.fingerprint, addresses: [relayKey(host, port)], from: `the greeting of its ${probed.port} port` };
  }
  const known = await fetchWellKnownIdentity(host, port, timeoutMs);
  return {
    fingerprint: known.fingerprint,
    addresses: [relayKey(pinHost ?? host, known.clientPort), relayKey(pinHost ?? host, known.skeletonPort)],
    from: `http://${relayKey(host, port)}/.well-known/burrow/`,
  };
}

export function registerTrustCommand(client: Command, ctx: CliContext, siblingKeys: readonly string[]): Command {
  const trust = client
    .command('trust')
    .argument('<host:port>', "the relay's client or skeleton port (with --http: its admin port)")
    .description("show a relay's fingerprint and, once you confirm it, pin it in the known-relays file")
    .addOption(new Option('--yes', 'pin without asking (only after checking the fingerprint another way); no env twin or config key on purpose'))
    .addOption(new Option('--replace', 'replace a different pinned fingerprint (after a key rotation), after confirmation'));
  withExamples(trust, ...EXAMPLES);
  addOptions(trust, TRUST_OPTIONS);
  trust.action(async (target: string) => {
    const config = await configOrPrint(trust, TRUST_OPTIONS, ctx, { siblingKeys, defaults: knownRelaysDefault(ctx.env) });
    if (!config) return;
    const path = knownRelaysPathOf(config, ctx.env);
    // A ws(s):// relay is read through its WebSocket endpoint (and a proxy from the environment, as curl).
    const via = isRelayUrl(target) ? await transportOf(target, config, ctx.env) : {};
    const learned = await learn(target, config.http === true, (config.timeout as number) * 1000, config.pinHost as string | undefined, via);
    let text = await readKnownRelaysText(path);
    const entries = parseKnownRelays(text, path);
    const pinned = learned.addresses.map((a) => ({ address: a, entry: findKnownRelay(entries, ...hostPort(a)) }));
    const changed = pinned.filter((p) => p.entry && p.entry.fingerprint !== learned.fingerprint);
    const replace = trust.getOptionValue('replace') === true;
    for (const c of changed) {
      ctx.stderr(`WARNING: the relay at ${c.address} now presents ${learned.fingerprint}`);
      ctx.stderr(`         but ${path} line ${c.entry!.line} pins ${c.entry!.fingerprint}.`);
      ctx.stderr('         Someone may be impersonating the relay, or its operator rotated its key. Ask the operator.');
    }
    if (changed.length > 0 && !replace) {
      throw new BurrowError('ERR_RELAY_KEY_MISMATCH', `${changed.map((c) => c.address).join(', ')}: pinned fingerprint differs; nothing changed (after checking with the operator: --replace)`);
    }
    const todo = pinned.filter((p) => p.entry?.fingerprint !== learned.fingerprint);
    if (todo.length === 0) {
      ctx.stdout(`${learned.addresses.join(', ')} already pinned to ${learned.fingerprint} in ${path}`);
      return;
    }
    ctx.stderr(`relay ${learned.addresses.join(', ')} presents, through ${learned.from}:`);
    ctx.stderr(`  ${learned.fingerprint}`);
    ctx.stderr('compare it with `burrow keys fingerprint` on the relay host (or ask its operator).');
    if (trust.getOptionValue('yes') !== true) {
      const refusal = 'stdin is not a terminal, so nothing can be confirmed: check the fingerprint, then run again with --yes';
      if (!(await confirm(ctx, `pin ${learned.fingerprint} for ${todo.map((p) => p.address).join(', ')}?`, refusal))) {
        throw new BurrowError('ERR_USAGE', 'not confirmed; nothing pinned');
      }
    }
    for (const p of todo) text = withPin(text, p.address, learned.fingerprint);
    await writeKnownRelays(path, text);
    for (const p of todo) ctx.stdout(`pinned ${p.address} ${learned.fingerprint} in ${path}`);
  });
  return trust;
}

function hostPort(address: string): [string, number] {
  const { host, port } = parseHostPort(address, 'address');
  return [host, port];
}
