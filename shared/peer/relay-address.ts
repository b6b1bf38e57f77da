/** HOST:PORT of a relay (IPv6 in brackets), and the pinned fingerprint that goes with it. */
import { BurrowError } from '../errors.js';
import type { ProxyTarget } from '../net/http-connect.js';
import type { WsTarget } from './relay-url.js';

export interface RelayTarget {
  host: string;
  port: number;
  /** `SHA256:...` of the relay identity key, as printed by `burrow keys fingerprint`. */
  fingerprint: string;
  /** Reach it over a WebSocket (a ws:// or wss:// --relay) instead of plain TCP. */
  ws?: WsTarget;
  /** Reach it (or its WebSocket endpoint) through this HTTP CONNECT proxy. */
  proxy?: ProxyTarget;
}

const HOST_PORT_RE = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d+)$/;

/** What is wrong with `text` as HOST:PORT (and what is allowed), or undefined when it is fine. */
export function hostPortProblem(text: string): string | undefined {
  const m = HOST_PORT_RE.exec(text.trim());
  if (!m) return `expected HOST:PORT (IPv6 as [ADDR]:PORT), got ${JSON.stringify(text)}`;
  const port = Number(m[3]);
  return port <= 65535 ? undefined : `port ${m[3]} is out of range: a port is a number from 0 to 65535 (got ${JSON.stringify(text)})`;
}

export function parseHostPort(text: string, what = '--relay'): { host: string; port: number } {
  const problem = hostPortProblem(text);
  if (problem !== undefined) throw new BurrowError('ERR_USAGE', `${what}: ${problem}`);
  const m = HOST_PORT_RE.exec(text.trim())!;
  return { host: (m[1] ?? m[2])!, port: Number(m[3]) };
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
