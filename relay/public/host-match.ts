/**
 * Host names for the shared public ports: normalising what a client sent (a `Host` header, an
 * absolute-form authority, a TLS SNI name) and matching it against the published names.
 *
 * Matching rules (the same for HTTP `Host` and TLS SNI):
 * - case-insensitive, port stripped, one trailing dot dropped (`WWW.Example.NET.:80` is `www.example.net`);
 * - an exact name wins over a wildcard;
 * - `*.home.example.net` matches exactly ONE more label: `a.home.example.net`, not `a.b.home.example.net`
 *   and not the apex `home.example.net`. That is how a wildcard certificate matches (RFC 6125 6.4.3), so
 *   an https publication never receives a name its home server cannot hold a certificate for, and HTTP
 *   and HTTPS agree. (frp walks up the labels, so `*.example.net` also takes `a.b.example.net`; publish
 *   `*.b.example.net` for that here.)
 * Pure functions: no sockets, no state.
 */

/** Longest DNS name (RFC 1035), without the trailing dot. */
const MAX_NAME = 253;
const NAME = /^[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*$/;
const PORT = /^[0-9]{0,5}$/;
const IPV6 = /^\[[0-9a-f:.]{2,45}\]$/;

/**
 * The host of a `Host` header or authority, lower-cased, port and trailing dot stripped; an IPv6 literal
 * keeps its brackets (`[::1]:80` -> `[::1]`). undefined when missing or not a host name (the caller
 * answers 400): only letters, digits, `-`, `_` and dots get through, so the result is safe in a log line.
 */
export function normalizeHost(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const lower = value.trim().toLowerCase();
  if (lower.startsWith('[')) {
    const close = lower.indexOf(']');
    if (close < 0) return undefined;
    const literal = lower.slice(0, close + 1);
    const rest = lower.slice(close + 1);
    if (!IPV6.test(literal)) return undefined;
    if (rest !== '' && !(rest.startsWith(':') && PORT.test(rest.slice(1)))) return undefined;
    return literal;
  }
  const colon = lower.indexOf(':');
  let name = colon < 0 ? lower : lower.slice(0, colon);
  if (colon >= 0 && !PORT.test(lower.slice(colon + 1))) return undefined;
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name.length === 0 || name.length > MAX_NAME || !NAME.test(name)) return undefined;
  return name;
}

/**
 * The published name that serves `host` (already normalised): `host` itself if published, else the
 * one-label wildcard `*.<parent>` if published, else undefined. `names` are lower-case published names
 * and patterns; pass a Set for an O(1) lookup (any other iterable is copied into one).
 */
export function matchHost(host: string, names: Iterable<string>): string | undefined {
  if (host.length === 0 || host.includes('*')) return undefined;
  const set: ReadonlySet<string> = names instanceof Set ? names : new Set(names);
  if (set.has(host)) return host;
  const dot = host.indexOf('.');
  if (dot <= 0 || dot === host.length - 1) return undefined;
  const wildcard = `*${host.slice(dot)}`;
  return set.has(wildcard) ? wildcard : undefined;
}
