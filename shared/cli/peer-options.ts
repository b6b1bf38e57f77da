/**
 * Options every peer command shares (--relay, --fingerprint, --known-relays, --user, --password-file)
 * and what they make. Without --fingerprint the relay's pin comes from the known-relays file.
 */
import { option } from '../config/option-spec.js';
import type { Config } from '../config/load-config.js';
import { fingerprintProblem, parseFingerprint } from '../crypto/fingerprint.js';
import { BurrowError } from '../errors.js';
import { findKnownRelay } from '../peer/known-relays.js';
import { defaultKnownRelaysPath, readKnownRelays } from '../peer/known-relays-file.js';
import { formatHostPort, type RelayTarget } from '../peer/relay-address.js';
import { parseRelayAddress, relayAddressProblem } from '../peer/relay-url.js';
import { TRANSPORT_OPTIONS, transportOf } from './transport-options.js';
import type { Redacted } from '../redacted.js';
import type { PeerContext } from './peer-hints.js';
import { readPassword } from './read-password.js';

export const KNOWN_RELAYS_OPTION = option(
  '--known-relays <file>', 'string', 'pinned relay fingerprints, written by burrow client trust (default: $XDG_CONFIG_HOME/burrow/known_relays or ~/.config/burrow/known_relays)',
  { path: true },
);

export function peerOptions(defaultPort: number) {
  return [
    option('--relay <host:port>', 'string', `the relay's ${defaultPort === 7001 ? 'skeleton' : 'client'} port, or its WebSocket endpoint wss://HOST[:PORT]/PATH; several relays of one cluster: HOST:PORT,HOST:PORT`, { check: relayListProblem }),
    option('--fingerprint <fp>', 'string', "the relay's fingerprint (SHA256:..., from burrow keys fingerprint); else looked up in --known-relays", { check: fingerprintProblem }),
    KNOWN_RELAYS_OPTION,
    option('--user <name>', 'string', 'account name'),
    option('--password-file <file>', 'string', 'file holding the password (else BURROW_PASSWORD, else a prompt)', { path: true }),
    ...TRANSPORT_OPTIONS,
  ];
}

export function required(config: Config, key: string, flag: string): string {
  const value = config[key];
  if (typeof value !== 'string') throw new BurrowError('ERR_USAGE', `${flag} is required`);
  return value;
}

/** The known-relays file this command uses: --known-relays, else the per-user default. */
export function knownRelaysPathOf(config: Config, env: NodeJS.ProcessEnv): string {
  return typeof config.knownRelays === 'string' ? config.knownRelays : defaultKnownRelaysPath(env);
}

function relayListProblem(value: string): string | undefined {
  for (const part of value.split(',')) {
    const problem = relayAddressProblem(part);
    if (problem !== undefined) return problem.startsWith('expected') ? `${problem}; several relays are separated by commas` : problem;
  }
  return undefined;
}

/** Every --relay address (comma-separated or repeated), each with its pin. */
export async function relayTargetsOf(config: Config, env: NodeJS.ProcessEnv): Promise<RelayTarget[]> {
  const value = config.relay;
  const list = (Array.isArray(value) ? value : typeof value === 'string' ? [value] : []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  if (list.length === 0) throw new BurrowError('ERR_USAGE', '--relay is required');
  const targets: RelayTarget[] = [];
  for (const address of list) targets.push({ ...(await pinnedTarget(address, config, env)), ...(await transportOf(address, config, env)) });
  return targets;
}

/** The first --relay address with its pin. */
export async function relayTargetOf(config: Config, env: NodeJS.ProcessEnv): Promise<RelayTarget> {
  return (await relayTargetsOf(config, env))[0]!;
}

async function pinnedTarget(address: string, config: Config, env: NodeJS.ProcessEnv): Promise<RelayTarget> {
  const { host, port } = parseRelayAddress(address);
  if (typeof config.fingerprint === 'string') {
    return { host, port, fingerprint: parseFingerprint(config.fingerprint, { source: '--fingerprint' }) };
  }
  const path = knownRelaysPathOf(config, env);
  const known = findKnownRelay(await readKnownRelays(path), host, port);
  if (!known) {
    throw new BurrowError('ERR_USAGE', `--fingerprint is required: ${host}:${port} is not pinned in ${path} (pin it with burrow client trust ${host}:${port})`);
  }
  return { host, port, fingerprint: known.fingerprint };
}

export function peerPassword(config: Config, env: NodeJS.ProcessEnv, user: string): Promise<Redacted<string>> {
  return readPassword({ passwordFile: config.passwordFile as string | undefined, env, prompt: `password for ${user}: ` });
}

/** What a failure message tells the user to check: who logs in where, and where the password came from. */
export function peerContext(config: Config, env: NodeJS.ProcessEnv, role: PeerContext['role'], relay: RelayTarget[]): PeerContext {
  const passwordFrom = typeof config.passwordFile === 'string' ? `the first line of ${config.passwordFile}`
    : env.BURROW_PASSWORD !== undefined ? 'BURROW_PASSWORD' : 'the one typed at the prompt';
  return { role, relay: relay.map((r) => formatHostPort(r.host, r.port)).join(','), user: typeof config.user === 'string' ? config.user : '', passwordFrom };
}

/** For --print-config: where the password will come from, never the password. */
export function passwordNote(config: Config, env: NodeJS.ProcessEnv): string {
  if (typeof config.passwordFile === 'string') return `password: first line of ${config.passwordFile}, read when the command runs (not now)`;
  if (env.BURROW_PASSWORD !== undefined) return 'password: BURROW_PASSWORD is set (value not shown)';
  return 'password: asked at a prompt when the command runs on a terminal';
}

/** The known-relays path as a default known only at run time (it depends on $HOME). */
export function knownRelaysDefault(env: NodeJS.ProcessEnv): { knownRelays: string } {
  return { knownRelays: defaultKnownRelaysPath(env) };
}
