/**
 * What a skeleton account may publish (the users file's `publish` list, `burrow users add --publish`):
 * `tcp:PORT` or `tcp:LOW-HIGH` (and `udp:` the same way), or a host-name pattern. A pattern `*.zone`
 * grants every name below `zone`, at any depth, and the wildcard publications `*.zone` and `*.sub.zone`;
 * a plain name grants that name only. A host name grant covers both http:// and https://.
 */
import { canonicalHost, type PublicationTarget } from '../../shared/protocol/publication-url.js';

/** Why a grant string is not one, or undefined when it is. */
export function grantProblem(grant: string): string | undefined {
  const ports = /^(tcp|udp):(\d{1,5})(?:-(\d{1,5}))?$/i.exec(grant);
  if (ports) {
    const low = Number(ports[2]);
    const high = ports[3] === undefined ? low : Number(ports[3]);
    if (low < 1 || high > 65535 || high < low) return `invalid port range in ${JSON.stringify(grant)} (1-65535, low first)`;
    return undefined;
  }
  if (/^\d+(?:-\d+)?$/.test(grant)) return `invalid grant ${JSON.stringify(grant)}: a port is tcp:${grant} (or udp:${grant})`;
  if (/^[a-z]+:/i.test(grant)) return `invalid grant ${JSON.stringify(grant)}: use tcp:PORT[-PORT], udp:PORT[-PORT] or a host name pattern`;
  if (canonicalHost(grant) !== grant.toLowerCase()) {
    return `invalid grant ${JSON.stringify(grant)}: a host name (letters, digits, hyphens, dots), optionally starting with *.`;
  }
  return undefined;
}

/** Whether one grant covers the target. */
export function grantCovers(grant: string, target: PublicationTarget): boolean {
  const ports = /^(tcp|udp):(\d{1,5})(?:-(\d{1,5}))?$/i.exec(grant);
  if (ports) {
    if (target.port === undefined || ports[1]!.toLowerCase() !== target.kind) return false;
    const low = Number(ports[2]);
    const high = ports[3] === undefined ? low : Number(ports[3]);
    return target.port >= low && target.port <= high;
  }
  if (target.host === undefined) return false;
  const pattern = grant.toLowerCase();
  if (!pattern.startsWith('*.')) return target.host === pattern;
  // `*.zone` covers `a.zone`, `a.b.zone`, `*.zone` and `*.b.zone`, never `zone` itself.
  return target.host.endsWith(pattern.slice(1));
}

export function grantsCover(grants: readonly string[] | undefined, target: PublicationTarget): boolean {
  return (grants ?? []).some((grant) => grantCovers(grant, target));
}
