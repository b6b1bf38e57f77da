/**
 * How a peer command reaches the relay, besides --relay itself: an HTTP CONNECT proxy (--proxy, else
 * https_proxy / HTTPS_PROXY / no_proxy as curl reads them) and the WebSocket's headers, TLS name, extra
 * CA and ping interval. Each has its BURROW_* twin and TOML key like every other option.
 */
import { readFile } from 'node:fs/promises';
import { option } from '../config/option-spec.js';
import type { Config } from '../config/load-config.js';
import { BurrowError } from '../errors.js';
import { parseProxyUrl, type ProxyTarget } from '../net/http-connect.js';
import { proxyFromEnv } from '../net/proxy-env.js';
import type { RelayTarget } from '../peer/relay-address.js';
import { DEFAULT_WS_PING_MS, parseHeaderLines, parseRelayAddress, type WsTarget } from '../peer/relay-url.js';

export const TRANSPORT_OPTIONS = [
  option('--proxy <url>', 'string', 'reach the relay through this HTTP CONNECT proxy: http://[USER:PASS@]HOST:PORT (else https_proxy/HTTPS_PROXY and no_proxy, as curl reads them; "none": never)', {
    secret: true, check: proxyProblem,
  }),
  option('--ws-header <line>', 'list', 'with a ws(s):// --relay: an extra request header "Name: value" (repeatable; "Host: NAME" replaces the URL\'s)'),
  option('--tls-server-name <name>', 'string', 'with a wss:// --relay: the TLS server name (SNI) and certificate name, if not the URL\'s host'),
  option('--relay-ca <file>', 'string', 'with a wss:// --relay: PEM certificates to trust besides the system\'s (a private CA, a TLS-inspecting proxy\'s CA)', { path: true }),
  option('--ws-ping-interval <seconds>', 'int', 'with a ws(s):// --relay: WebSocket ping interval, below the idle timeout of every proxy on the way; 0 never', {
    default: DEFAULT_WS_PING_MS / 1000, min: 0, max: 3600,
  }),
];

function proxyProblem(value: string): string | undefined {
  if (value === 'none') return undefined;
  try {
    parseProxyUrl(value);
    return undefined;
  } catch (err) {
    return err instanceof BurrowError ? (err.detail ?? err.message) : String(err);
  }
}

/** The proxy for one relay address: --proxy (or BURROW_PROXY, the file), else the curl-style variables. */
export function proxyOf(address: string, config: Config, env: NodeJS.ProcessEnv): ProxyTarget | undefined {
  const given = config.proxy;
  if (given === 'none') return undefined;
  if (typeof given === 'string') return parseProxyUrl(given);
  const { host, ws } = parseRelayAddress(address);
  const fromEnv = proxyFromEnv(env, ws ? (ws.tls ? 'wss' : 'ws') : 'tcp', host);
  return fromEnv === undefined ? undefined : parseProxyUrl(fromEnv, ws?.tls === false ? 'http_proxy' : 'https_proxy');
}

/** What --relay ADDRESS adds to its target: the WebSocket settings and the proxy. */
export async function transportOf(address: string, config: Config, env: NodeJS.ProcessEnv): Promise<Pick<RelayTarget, 'ws' | 'proxy'>> {
  const proxy = proxyOf(address, config, env);
  const { ws } = parseRelayAddress(address);
  if (!ws) return proxy ? { proxy } : {};
  const headers = Array.isArray(config.wsHeader) ? parseHeaderLines(config.wsHeader as string[]) : undefined;
  const ca = typeof config.relayCa === 'string' ? [await readCa(config.relayCa)] : undefined;
  const full: WsTarget = {
    ...ws, pingMs: (config.wsPingInterval as number | undefined ?? DEFAULT_WS_PING_MS / 1000) * 1000,
    ...(headers ? { headers } : {}), ...(ca ? { ca } : {}),
    ...(typeof config.tlsServerName === 'string' ? { servername: config.tlsServerName } : {}),
  };
  return { ws: full, ...(proxy ? { proxy } : {}) };
}

async function readCa(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new BurrowError('ERR_USAGE', `--relay-ca ${path}: ${(err as NodeJS.ErrnoException).code ?? 'cannot read it'}`);
  }
}
