/**
 * X-Forwarded-For / -Proto / -Host and RFC 7239 `Forwarded`, for publications that ask for them.
 *
 * When a publication asks, whatever the public client sent under these names (and X-Real-IP) is
 * REPLACED, never appended to: the relay is the first hop the home server can trust, so a client-made
 * `X-Forwarded-For: 10.0.0.1` must not reach it as if the relay had vouched for it. When a publication
 * does not ask, the relay adds nothing and passes the client's headers through untouched (the home
 * server then sees the skeleton's address and must not trust these headers at all).
 *
 * Spellings with `_` for `-` (`X-Forwarded_For`, `X_Real_IP`) are dropped too: CGI, WSGI and PHP fold
 * both into the same `HTTP_X_FORWARDED_FOR`, so one would sit next to the relay's own and may win.
 */
import { isIPv6 } from 'node:net';

const REPLACED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-real-ip', 'forwarded']);

export interface ForwardedInfo {
  /** The public client's address as the relay saw it. */
  clientAddress: string;
  /** The public scheme: `http` on the shared HTTP port. */
  proto: 'http' | 'https';
  /** The `Host` the client asked for, as sent (port included). */
  host: string;
}

/**
 * `raw` with the forwarding headers replaced by the relay's own, which come FIRST: a home server that
 * keeps only so many header lines (node:http keeps 2,000, others fewer) drops the client's last ones,
 * never the relay's.
 */
export function withForwardedHeaders(raw: readonly string[], info: ForwardedInfo): string[] {
  const address = unmapped(info.clientAddress);
  const node = isIPv6(address) ? `"[${address}]"` : address;
  const out: string[] = [
    'X-Forwarded-For', address,
    'X-Forwarded-Proto', info.proto,
    'X-Forwarded-Host', info.host,
    'Forwarded', `for=${node};proto=${info.proto};host=${quoted(info.host)}`,
  ];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!REPLACED.has(raw[i]!.replaceAll('_', '-').toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/** `::ffff:192.0.2.1` (an IPv4 client on a dual-stack socket) as `192.0.2.1`. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** A `Forwarded` value: a token as is, anything else quoted (RFC 7230 quoted-string). */
function quoted(value: string): string {
  return /^[A-Za-z0-9.-]+$/.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}
