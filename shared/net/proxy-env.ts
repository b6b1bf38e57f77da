/**
 * The proxy for a relay address as curl chooses it: `https_proxy` (or `HTTPS_PROXY`) for wss:// and for
 * plain HOST:PORT relays (both are TLS-or-opaque traffic a proxy can only tunnel with CONNECT),
 * `http_proxy` (lower case only, as curl) for ws://; `no_proxy` (or `NO_PROXY`) lists hosts that go
 * direct: `*` for all, a name matching itself and its subdomains (a leading dot is ignored), an IP
 * address or an IPv4 CIDR range. Pure: the environment is a parameter.
 */
import { isIP } from 'node:net';

export function proxyFromEnv(env: NodeJS.ProcessEnv, scheme: 'tcp' | 'ws' | 'wss', host: string): string | undefined {
  const value = scheme === 'ws' ? env.http_proxy : (env.https_proxy ?? env.HTTPS_PROXY);
  if (value === undefined || value.trim() === '') return undefined;
  return bypassesProxy(env.no_proxy ?? env.NO_PROXY ?? '', host) ? undefined : value.trim();
}

/** Whether `host` is in a curl-style no_proxy list. */
export function bypassesProxy(noProxy: string, host: string): boolean {
  const name = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase().replace(/^\[|\]$/g, '');
    if (entry === '') continue;
    if (entry === '*') return true;
    if (entry.includes('/')) {
      if (inCidr(name, entry)) return true;
      continue;
    }
    const bare = entry.replace(/^\./, '').replace(/\.$/, '');
    if (isIP(name) !== 0 || isIP(bare) !== 0) {
      if (name === bare) return true;
      continue;
    }
    if (name === bare || name.endsWith(`.${bare}`)) return true;
  }
  return false;
}

function inCidr(address: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (isIP(address) !== 4 || isIP(base ?? '') !== 4 || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const toInt = (ip: string): number => ip.split('.').reduce((n, part) => (n << 8) + Number(part), 0) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((toInt(address) & mask) >>> 0) === ((toInt(base!) & mask) >>> 0);
}
