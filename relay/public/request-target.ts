/**
 * Where a public request is aimed: the host that routes it and the path sent upstream.
 *
 * A request line in absolute form (`GET http://other.example/ HTTP/1.1`) names its own host, and an
 * origin server must obey it over `Host` (RFC 9112 3.2.2). Left alone, it would let a client route by
 * `Host` to one publication and make the home server serve another (say, a LAN-only virtual host on
 * the same nginx). So the authority of an absolute-form target must agree with `Host`, and the target is
 * forwarded in origin form (path and query only).
 *
 * More than one `Host` header is refused (RFC 9112 3.2): the relay would route by the first while the
 * home server might use the last, and serve another virtual host than the one the relay chose.
 */
import { normalizeHost } from './host-match.js';

export interface RequestTarget {
  /** Normalised host name (see normalizeHost). */
  host: string;
  /** The `Host` header as the client sent it (port included), for X-Forwarded-Host. */
  sentHost: string;
  /** Origin-form target for the upstream request line: `/path?query` (or `*` for `OPTIONS *`). */
  path: string;
}

/** undefined: no usable host, or a target that contradicts it (the caller answers 400). */
export function requestTarget(req: { url: string; method: string; rawHeaders: readonly string[] }): RequestTarget | undefined {
  const hosts: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === 'host') hosts.push(req.rawHeaders[i + 1]!);
  if (hosts.length !== 1) return undefined;
  const sentHost = hosts[0]!;
  const host = normalizeHost(sentHost);
  const url = req.url;
  if (!host) return undefined;
  if (url.startsWith('/')) return { host, sentHost, path: url };
  if (url === '*' && req.method === 'OPTIONS') return { host, sentHost, path: url };
  if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) return undefined;
  const parsed = new URL(url);
  if (normalizeHost(parsed.host) !== host) return undefined;
  return { host, sentHost, path: rawPath(url) };
}

/**
 * The path and query of an absolute-form target as the client wrote them. The URL parser's `pathname`
 * would resolve `/a/%2e%2e/admin` to `/admin` (and fold other spellings) that the same path in origin
 * form passes as written: the home server, which decides what `..` means, sees one form either way.
 */
function rawPath(url: string): string {
  const afterScheme = url.indexOf('//') + 2;
  const slash = url.indexOf('/', afterScheme);
  const query = url.indexOf('?', afterScheme);
  if (slash >= 0 && (query < 0 || slash < query)) return url.slice(slash);
  return query >= 0 ? `/${url.slice(query)}` : '/';
}
