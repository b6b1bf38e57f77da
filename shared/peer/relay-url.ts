/**
 * A relay address as the user writes it: HOST:PORT (plain TCP to one of the relay's ports) or a
 * ws:// / wss:// URL of the relay's WebSocket endpoint (both roles share it; the peer adds `role=`).
 */
import { BurrowError } from '../errors.js';
import { hostPortProblem, parseHostPort } from './relay-address.js';

/** Below nginx's default 60 s proxy_read_timeout, and below most corporate proxies' idle cut. */
export const DEFAULT_WS_PING_MS = 25_000;

export interface WsTarget {
  /** wss:// (TLS to HOST:PORT, then the upgrade) or ws://. */
  tls: boolean;
  /** Path and query of the URL, as given. */
  path: string;
  /** Extra request headers (a Host here replaces the URL's). */
  headers?: Record<string, string>;
  /** TLS server name (SNI) and the name the certificate must be for; default the URL's host name. */
  servername?: string;
  /** Certificates to trust besides the system's (a TLS-inspecting proxy's CA, a private CA). */
  ca?: string[];
  /** WebSocket ping interval (default DEFAULT_WS_PING_MS); 0 disables. */
  pingMs?: number;
}

export function isRelayUrl(text: string): boolean {
  return /^wss?:\/\//i.test(text.trim());
}

/** What is wrong with `text` as a --relay address, or undefined. */
export function relayAddressProblem(text: string): string | undefined {
  if (!isRelayUrl(text)) return hostPortProblem(text);
  try {
    parseRelayUrl(text);
    return undefined;
  } catch (err) {
    return err instanceof BurrowError ? (err.detail ?? err.message) : String(err);
  }
}

/** HOST:PORT or a ws(s):// URL -> where to connect, and how. */
export function parseRelayAddress(text: string, what = '--relay'): { host: string; port: number; ws?: WsTarget } {
  return isRelayUrl(text) ? parseRelayUrl(text, what) : parseHostPort(text, what);
}

function parseRelayUrl(text: string, what = '--relay'): { host: string; port: number; ws: WsTarget } {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new BurrowError('ERR_USAGE', `${what}: expected wss://HOST[:PORT]/PATH, got ${JSON.stringify(text)}`);
  }
  if (url.username || url.password) throw new BurrowError('ERR_USAGE', `${what}: a relay URL carries no credentials (burrow logs in itself)`);
  if (url.hash) throw new BurrowError('ERR_USAGE', `${what}: a relay URL has no #fragment`);
  if (url.searchParams.has('role')) throw new BurrowError('ERR_USAGE', `${what}: the role= query parameter is burrow's own (the peer adds it)`);
  const tls = url.protocol === 'wss:';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port: url.port ? Number(url.port) : tls ? 443 : 80, ws: { tls, path: `${url.pathname}${url.search}` } };
}

/** The path and query the peer asks for: the URL's, with the relay port it means as `role=`. */
export function wsRequestPath(ws: WsTarget, role: 'client' | 'skeleton'): string {
  return `${ws.path}${ws.path.includes('?') ? '&' : '?'}role=${role}`;
}

/** `Name: value` lines (--ws-header) -> a header table; names are checked, values kept as given. */
export function parseHeaderLines(lines: readonly string[], what = '--ws-header'): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):\s*(.*)$/.exec(line);
    if (!m || /[\r\n]/.test(m[2]!)) throw new BurrowError('ERR_USAGE', `${what}: expected "Name: value", got ${JSON.stringify(line)}`);
    headers[m[1]!] = m[2]!;
  }
  return headers;
}
