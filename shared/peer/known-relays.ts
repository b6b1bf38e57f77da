/**
 * The known-relays file, like ssh's known_hosts: one `HOST:PORT SHA256:...` per line, `#` comments.
 * Pure: parse text, look an address up, make the next text. Reading and writing are in known-relays-file.ts.
 */
import { FINGERPRINT_RE } from '../crypto/fingerprint.js';
import { BurrowError } from '../errors.js';
import { formatHostPort, parseHostPort } from './relay-address.js';

export interface KnownRelay {
  /** Normalised HOST:PORT (host lower-cased, IPv6 in brackets). */
  address: string;
  fingerprint: string;
  /** 1-based line in the file. */
  line: number;
}

/** HOST:PORT as the file keys it, so `Relay.Example:7000` and `relay.example:7000` are one entry. */
export function relayKey(host: string, port: number): string {
  return formatHostPort(host.toLowerCase(), port);
}

export function parseKnownRelays(text: string, path: string): KnownRelay[] {
  const entries: KnownRelay[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fail = (why: string): never => {
      throw new BurrowError('ERR_CONFIG', `${path}: line ${i + 1}: ${why}; expected HOST:PORT SHA256:... (written by burrow client trust)`);
    };
    const [addr = '', fp = '', ...extra] = line.split(/\s+/);
    if (extra.length > 0) fail('more than two fields');
    let address = '';
    try {
      const { host, port } = parseHostPort(addr, 'address');
      address = relayKey(host, port);
    } catch {
      fail(`bad address ${JSON.stringify(addr)}`);
    }
    if (!FINGERPRINT_RE.test(fp)) fail('bad fingerprint');
    const other = entries.find((e) => e.address === address);
    if (other && other.fingerprint !== fp) fail(`${address} is pinned twice with different fingerprints (also line ${other.line})`);
    if (!other) entries.push({ address, fingerprint: fp, line: i + 1 });
  });
  return entries;
}

export function findKnownRelay(entries: readonly KnownRelay[], host: string, port: number): KnownRelay | undefined {
  const address = relayKey(host, port);
  return entries.find((e) => e.address === address);
}

/**
 * The file's next text with `address` pinned to `fingerprint`: appended when new, replaced in place
 * (comments and other lines kept) when it was there. The caller decides whether a replace is allowed.
 */
export function withPin(text: string, address: string, fingerprint: string): string {
  const lines = text === '' ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/);
  const entry = `${address} ${fingerprint}`;
  let replaced = false;
  const next = lines.flatMap((raw) => {
    const [addr = ''] = raw.trim().split(/\s+/);
    if (raw.trim().startsWith('#') || addr === '') return [raw];
    let key = addr;
    try {
      const { host, port } = parseHostPort(addr, 'address');
      key = relayKey(host, port);
    } catch {
      return [raw];
    }
    if (key !== address) return [raw];
    if (replaced) return [];
    replaced = true;
    return [entry];
  });
  if (!replaced) next.push(entry);
  return next.join('\n') + '\n';
}
