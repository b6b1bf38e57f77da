/**
 * PROXY protocol headers (HAProxy's spec, versions 1 and 2, TCP over IPv4 or IPv6; version 2 also UDP,
 * `dgram`, which version 1 cannot express): how a skeleton tells a local server that opted in the real
 * client address (S10: only when the server is configured for it and the relay allows it).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { BurrowError } from '../errors.js';

export type ProxyVersion = 'v1' | 'v2';

export interface ProxyAddresses {
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
}

const V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** An IPv4-mapped IPv6 address (::ffff:1.2.3.4) as the IPv4 address it is. */
function plain(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

function family(a: ProxyAddresses): 4 | 6 {
  const src = plain(a.src);
  const dst = plain(a.dst);
  if (isIPv4(src) && isIPv4(dst)) return 4;
  if (isIPv6(src) || isIPv6(dst)) return 6;
  throw new BurrowError('ERR_INVALID_REQUEST', 'PROXY header needs IP addresses');
}

function ipv6Bytes(address: string): Buffer {
  const a = plain(address);
  if (isIPv4(a)) return Buffer.concat([Buffer.alloc(10), Buffer.from([0xff, 0xff]), Buffer.from(a.split('.').map(Number))]);
  // A dotted IPv4 tail (::1.2.3.4, 64:ff9b::1.2.3.4) is the last two groups.
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (dotted) {
    const [p, q, r, s] = dotted[2]!.split('.').map(Number) as [number, number, number, number];
    return ipv6Bytes(`${dotted[1]}${((p << 8) | q).toString(16)}:${((r << 8) | s).toString(16)}`);
  }
  const [head = '', tail = ''] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = a.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export function proxyHeader(version: ProxyVersion, a: ProxyAddresses, transport: 'stream' | 'dgram' = 'stream'): Buffer {
  const fam = family(a);
  if (version === 'v1') {
    if (transport === 'dgram') throw new BurrowError('ERR_INVALID_REQUEST', 'PROXY protocol v1 has no UDP');
    const src = fam === 4 ? plain(a.src) : a.src;
    const dst = fam === 4 ? plain(a.dst) : a.dst;
    return Buffer.from(`PROXY TCP${fam} ${src} ${dst} ${a.srcPort} ${a.dstPort}\r\n`, 'ascii');
  }
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(a.srcPort, 0);
  ports.writeUInt16BE(a.dstPort, 2);
  const addresses = fam === 4
    ? Buffer.concat([Buffer.from(plain(a.src).split('.').map(Number)), Buffer.from(plain(a.dst).split('.').map(Number)), ports])
    : Buffer.concat([ipv6Bytes(a.src), ipv6Bytes(a.dst), ports]);
  const head = Buffer.alloc(4);
  head[0] = 0x21; // version 2, command PROXY
  // Address family in the high nibble (1 IPv4, 2 IPv6), transport in the low one (1 STREAM, 2 DGRAM).
  head[1] = (fam === 4 ? 0x10 : 0x20) | (transport === 'dgram' ? 0x02 : 0x01);
  head.writeUInt16BE(addresses.length, 2);
  return Buffer.concat([V2_SIGNATURE, head, addresses]);
}
