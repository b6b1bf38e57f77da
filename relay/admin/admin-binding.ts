/**
 * Where the admin HTTP listens: `HOST:PORT` or `off`, and the rule that keeps it safe: anything but a
 * loopback address needs a bearer token, or the relay refuses to start.
 */
import { isIP } from 'node:net';
import { BurrowError } from '../../shared/errors.js';

export interface AdminBinding {
  host: string;
  port: number;
}

export const DEFAULT_ADMIN = '127.0.0.1:7002';

/** `off`, `HOST:PORT` or `[V6]:PORT`; `where` names the option in errors. */
export function parseAdminSetting(value: string, where: string, code: 'ERR_USAGE' | 'ERR_CONFIG' = 'ERR_USAGE'): AdminBinding | 'off' {
  const text = value.trim();
  if (/^(off|none|false|no)$/i.test(text)) return 'off';
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  const host = m?.[1] ?? m?.[2];
  if (!host || !(port >= 0 && port <= 65535)) throw new BurrowError(code, `${where}: expected HOST:PORT or off, got ${JSON.stringify(value)}`);
  return { host, port };
}

/** 127.0.0.0/8, ::1, their IPv4-mapped form, and the name localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+\.\d+)$/.exec(h)?.[1];
  if (v4 && isIP(v4) === 4) return v4.startsWith('127.');
  // The URL parser writes IPv6 in its canonical short form: 0:0:0:0:0:0:0:1 becomes ::1.
  return isIP(h) === 6 && new URL(`http://[${h}]/`).hostname === '[::1]';
}

/** Throws, naming both options, when the admin HTTP would listen beyond loopback without a token. */
export function checkAdminExposure(binding: AdminBinding | 'off', hasToken: boolean, code: 'ERR_USAGE' | 'ERR_CONFIG' = 'ERR_CONFIG'): void {
  if (binding === 'off' || hasToken || isLoopbackHost(binding.host)) return;
  throw new BurrowError(code, `--admin ${binding.host}:${binding.port} is not a loopback address: give --admin-token-file FILE (or listen on 127.0.0.1, or --admin off)`);
}
