/**
 * A TCP connection through an HTTP forward proxy: `CONNECT host:port`, with Basic credentials when the
 * proxy URL has them. Resolves with the socket once the proxy answers 2xx; a refusal names the proxy
 * (never its credentials) and its status. The whole exchange has one deadline.
 */
import { connect, type Socket } from 'node:net';
import { BurrowError } from '../errors.js';
import { Redacted } from '../redacted.js';
import { formatHostPort } from '../peer/relay-address.js';

/** A proxy's answer head larger than this is not one. */
const MAX_RESPONSE_HEAD = 16 * 1024;

export interface ProxyTarget {
  host: string;
  port: number;
  /** `user:pass` for Basic, percent-decoded. */
  credentials?: Redacted<string>;
}

/** `http://[user:pass@]host:port` -> where to connect and with what; the URL's credentials never leave here in text. */
export function parseProxyUrl(text: string, what = '--proxy'): ProxyTarget {
  let url: URL;
  try {
    url = new URL(text.includes('://') ? text : `http://${text}`);
  } catch {
    throw new BurrowError('ERR_USAGE', `${what}: expected http://[USER:PASS@]HOST:PORT`);
  }
  if (url.protocol !== 'http:') throw new BurrowError('ERR_USAGE', `${what}: only http:// proxies (HTTP CONNECT) are supported, got ${url.protocol}`);
  if (url.pathname !== '/' || url.search) throw new BurrowError('ERR_USAGE', `${what}: a proxy URL has no path`);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port ? Number(url.port) : 80;
  const user = decodeURIComponent(url.username);
  return { host, port, ...(user || url.password ? { credentials: new Redacted(`${user}:${decodeURIComponent(url.password)}`) } : {}) };
}

/** The proxy as the user may see it: host and port, no credentials. */
export function proxyName(proxy: ProxyTarget): string {
  return `proxy ${formatHostPort(proxy.host, proxy.port)}`;
}

export function connectViaProxy(proxy: ProxyTarget, host: string, port: number, timeoutMs: number): Promise<Socket> {
  const target = formatHostPort(host, port);
  const name = proxyName(proxy);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: proxy.host, port: proxy.port, allowHalfOpen: true, noDelay: true });
    let head = Buffer.alloc(0);
    const fail = (err: BurrowError): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new BurrowError('ERR_RELAY_UNREACHABLE', `${name}: no answer to CONNECT ${target} in time`)), timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => fail(new BurrowError('ERR_RELAY_UNREACHABLE', `${name}: ${err.code ?? 'error'}`)));
    socket.once('end', () => fail(new BurrowError('ERR_RELAY_UNREACHABLE', `${name} closed the connection before answering CONNECT ${target}`)));
    socket.once('connect', () => {
      const auth = proxy.credentials ? `Proxy-Authorization: Basic ${Buffer.from(proxy.credentials.reveal()).toString('base64')}\r\n` : '';
      socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`);
    });
    // Read in paused mode: bytes past the answer stay in the socket's buffer for whoever reads it next
    // (a relay speaks first, and its Hello may come in the same segment as the proxy's answer).
    const onReadable = (): void => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > MAX_RESPONSE_HEAD) return fail(new BurrowError('ERR_RELAY_UNREACHABLE', `${name}: answer to CONNECT too long`));
          continue;
        }
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'))?.[1];
        if (status === undefined) return fail(new BurrowError('ERR_RELAY_UNREACHABLE', `${name}: not an HTTP answer to CONNECT`));
        const refused = proxyRefusal(Number(status), name, target, proxy.credentials !== undefined);
        if (refused) return fail(refused);
        clearTimeout(timer);
        socket.off('readable', onReadable);
        socket.removeAllListeners('error');
        socket.removeAllListeners('end');
        const rest = head.subarray(end + 4);
        if (rest.length > 0) socket.unshift(rest);
        return resolve(socket);
      }
    };
    socket.on('readable', onReadable);
  });
}

/** What a non-2xx answer to CONNECT means for us; undefined for success. */
export function proxyRefusal(status: number, name: string, target: string, hadCredentials: boolean): BurrowError | undefined {
  if (status >= 200 && status < 300) return undefined;
  if (status === 407) {
    return new BurrowError('ERR_PROXY_AUTH', `${name} answered 407 to CONNECT ${target}: ${hadCredentials ? 'it refused the credentials' : 'it wants credentials (http://USER:PASS@HOST:PORT)'}`);
  }
  // The proxy could not reach the relay (502, 503, 504): the relay is down or unreachable from there.
  if (status >= 500) return new BurrowError('ERR_RELAY_UNREACHABLE', `${name} answered ${status} to CONNECT ${target}`);
  return new BurrowError('ERR_PROXY_REFUSED', `${name} answered ${status} to CONNECT ${target}`);
}
