/**
 * Allow and deny lists of a publication: IPv4 and IPv6 networks in CIDR notation, or bare addresses.
 * An IPv4 source reached over a dual-stack socket (`::ffff:1.2.3.4`) is the IPv4 source it is, and a
 * rule written in that mapped form (`::ffff:10.0.0.0/104`) is the IPv4 rule it means; otherwise the
 * families stay apart, so `::/0` names every IPv6 source and no IPv4 one. Host bits below the prefix are
 * ignored (`10.1.2.3/8` is `10.0.0.0/8`), as nginx and BlockList do.
 *
 * A small matcher of our own rather than node:net's BlockList: BlockList is a native handle from the
 * socket module (the sans-IO import scan admits only node:net's isIP predicates), it cannot say which
 * entry was bad, and its treatment of mapped addresses is not the rule above. The lists are operator
 * configuration (a few entries each), so a linear scan over 128-bit integers is all it takes.
 */
import { isIP } from 'node:net';

interface Network {
  family: 4 | 6;
  network: bigint;
  mask: bigint;
}

/** An address as a family and an integer (IPv4-mapped IPv6 folded into IPv4); undefined if not an address. */
export function parseAddress(text: string): { family: 4 | 6; value: bigint } | undefined {
  // A zone (`fe80::1%eth0`) says which interface, not which host.
  const bare = text.replace(/%[^%]*$/, '');
  const family = isIP(bare);
  if (family === 4) return { family: 4, value: BigInt(ipv4ToNumber(bare)) };
  if (family !== 6) return undefined;
  const value = ipv6ToBigInt(bare.toLowerCase());
  if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
  return { family: 6, value };
}

function ipv4ToNumber(text: string): number {
  return text.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function ipv6ToBigInt(text: string): bigint {
  let s = text;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.', lastColon)) {
    const v4 = ipv4ToNumber(s.slice(lastColon + 1));
    s = `${s.slice(0, lastColon + 1)}${Math.floor(v4 / 0x10000).toString(16)}:${(v4 % 0x10000).toString(16)}`;
  }
  const [head = '', tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function maskOf(bits: number, prefix: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return all ^ ((1n << BigInt(bits - prefix)) - 1n);
}

function parseEntry(entry: string): Network | string {
  const [address = '', prefixText, extra] = entry.trim().split('/');
  if (extra !== undefined) return 'more than one "/"';
  const parsed = parseAddress(address);
  if (!parsed) return 'not an IPv4 or IPv6 address';
  const bits = parsed.family === 4 ? 32 : 128;
  let prefix = bits;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText)) return 'the prefix length is not a number';
    prefix = Number(prefixText);
    // A mapped IPv4 network is written with its IPv6 prefix length (96 + the IPv4 one).
    if (parsed.family === 4 && isIP(address.replace(/%[^%]*$/, '')) === 6) {
      if (prefix < 96) return 'a prefix shorter than /96 on an IPv4-mapped address spans more than IPv4';
      prefix -= 96;
    }
    if (prefix > bits) return `the prefix length is over ${bits}`;
  }
  const mask = maskOf(bits, prefix);
  return { family: parsed.family, network: parsed.value & mask, mask };
}

export class CidrList {
  readonly #networks: readonly Network[];

  constructor(networks: readonly Network[]) {
    this.#networks = networks;
  }

  get size(): number {
    return this.#networks.length;
  }

  /** Whether `address` lies in one of the networks; an unparseable address lies in none. */
  matches(address: string): boolean {
    const parsed = parseAddress(address);
    if (!parsed) return false;
    return this.#networks.some((n) => n.family === parsed.family && (parsed.value & n.mask) === n.network);
  }
}

export type CidrListResult = { ok: true; list: CidrList } | { ok: false; entry: string; message: string };

/** Parses a list of CIDR networks or bare addresses; a bad entry is named in the message (for ERR_CONFIG). */
export function parseCidrList(entries: readonly string[]): CidrListResult {
  const networks: Network[] = [];
  for (const entry of entries) {
    const network = parseEntry(entry);
    if (typeof network === 'string') return { ok: false, entry, message: `"${entry}" is not a network: ${network}` };
    networks.push(network);
  }
  return { ok: true, list: new CidrList(networks) };
}
