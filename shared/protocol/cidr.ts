/** CIDR notation as publications' allow and deny lists use it: an IPv4 or IPv6 address, optionally /PREFIX. */
import { isIP } from 'node:net';

/** Why `text` is not an address or CIDR block, or undefined when it is one. */
export function cidrProblem(text: string): string | undefined {
  const [address = '', prefix, extra] = text.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return `${JSON.stringify(text)} is not an IP address or CIDR block`;
  if (prefix === undefined) return undefined;
  const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
  const max = family === 4 ? 32 : 128;
  return bits >= 0 && bits <= max ? undefined : `${JSON.stringify(text)}: the prefix length must be 0-${max}`;
}
