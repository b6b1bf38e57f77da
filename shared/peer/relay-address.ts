/** HOST:PORT of a relay (IPv6 in brackets), and the pinned fingerprint that goes with it. */
import { BurrowError } from '../errors.js';

export interface RelayTarget {
  host: string;
  port: number;
  /** `SHA256:...` of the relay identity key, as printed by `burrow keys fingerprint`. */
  fingerprint: string;
}

export function parseHostPort(text: string, what = '--relay'): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new BurrowError('ERR_USAGE', `${what}: expected HOST:PORT (IPv6 as [ADDR]:PORT), got ${JSON.stringify(text)}`);
  }
  return { host: (m[1] ?? m[2])!, port };
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
