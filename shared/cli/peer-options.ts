/** Options every peer command shares (--relay, --fingerprint, --user, --password-file) and what they make. */
import { option } from '../config/option-spec.js';
import type { Config } from '../config/load-config.js';
import { parseFingerprint } from '../crypto/fingerprint.js';
import { BurrowError } from '../errors.js';
import { parseHostPort, type RelayTarget } from '../peer/relay-address.js';
import type { Redacted } from '../redacted.js';
import { readPassword } from './read-password.js';

export function peerOptions(defaultPort: number) {
  return [
    option('--relay <host:port>', 'hostport', `the relay's ${defaultPort === 7001 ? 'skeleton' : 'client'} port`),
    option('--fingerprint <fp>', 'string', "the relay's fingerprint (SHA256:..., from burrow keys fingerprint)"),
    option('--user <name>', 'string', 'account name'),
    option('--password-file <file>', 'string', 'file holding the password (else BURROW_PASSWORD, else a prompt)'),
  ];
}

export function required(config: Config, key: string, flag: string): string {
  const value = config[key];
  if (typeof value !== 'string') throw new BurrowError('ERR_USAGE', `${flag} is required`);
  return value;
}

export function relayTargetOf(config: Config): RelayTarget {
  const { host, port } = parseHostPort(required(config, 'relay', '--relay'));
  return { host, port, fingerprint: parseFingerprint(required(config, 'fingerprint', '--fingerprint'), { source: '--fingerprint' }) };
}

export function peerPassword(config: Config, env: NodeJS.ProcessEnv, user: string): Promise<Redacted<string>> {
  return readPassword({ passwordFile: config.passwordFile as string | undefined, env, prompt: `password for ${user}: ` });
}
