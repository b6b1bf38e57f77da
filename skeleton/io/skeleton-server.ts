/** A server the skeleton fronts: where it is, its secret, and what the listing says of it. */
import { BurrowError } from '../../shared/errors.js';
import type { AdvertisedServer, Publication } from '../../shared/protocol/messages.js';
import { DISPLAY_TEXT, PROTOCOL_NAME, SERVER_ID_PATTERN } from '../../shared/protocol/parse.js';
import type { Redacted } from '../../shared/redacted.js';

export interface SkeletonServer {
  id: string;
  host: string;
  port: number;
  /** The pre-shared secret burrow clients must know; absent for a server reached only through its publications. */
  secret?: Redacted<Buffer>;
  description: string;
  /** A hint for clients (http, ssh, smtp, tcp...). */
  protocol: string;
  /** Send the real client address to the target in a PROXY protocol header (the relay must allow it). */
  proxy?: 'v1' | 'v2';
  /** A datagram server (advertised as protocol udp): each client flow gets a UDP socket of its own toward it. Absent for tcp. */
  transport?: 'udp';
  /** How the public reaches it through the relay (public ingress); each names this server. */
  publications?: Publication[];
}

export function serverInfo(server: SkeletonServer): AdvertisedServer {
  const info: AdvertisedServer = { id: server.id, description: server.description, protocol: server.protocol };
  if (server.proxy) info.proxy = server.proxy;
  if (!server.secret) info.publicOnly = true;
  return info;
}

/** What is wrong with what a server would advertise (the relay refuses the whole Advertise otherwise), or undefined. */
export function serverInfoProblem(info: { id: string; description: string; protocol: string }): string | undefined {
  if (!SERVER_ID_PATTERN.test(info.id)) return 'the id must be 1-63 of a-z A-Z 0-9 . _ -, starting with a letter or digit';
  if (info.description.length > 200 || !DISPLAY_TEXT.test(info.description)) {
    return 'description must be at most 200 characters of printable text (no control characters, line breaks or bidi overrides)';
  }
  if (!PROTOCOL_NAME.test(info.protocol)) return 'protocol must be a short name such as http, ssh, smtp or tcp';
  return undefined;
}

/** For library callers: a server the relay would refuse is a configuration error now, not a reconnect loop later. */
export function checkServers(servers: SkeletonServer[]): void {
  for (const server of servers) {
    const problem = serverInfoProblem(server)
      ?? (!server.secret && (server.publications ?? []).length === 0 ? 'a server needs a secret unless it is published (--publish)' : undefined)
      ?? ((server.publications ?? []).some((p) => p.server !== server.id) ? 'a publication names another server' : undefined)
      ?? ((server.transport === 'udp') !== (server.protocol === 'udp') ? 'a udp server (transport udp) is advertised as protocol udp, and only it' : undefined)
      ?? (server.transport === 'udp' && server.proxy === 'v1' ? 'PROXY protocol v1 has no UDP: a udp server takes v2' : undefined)
      ?? ((server.publications ?? []).some((p) => p.url.startsWith('udp://') !== (server.transport === 'udp'))
        ? 'a udp server is published on udp://:PORT only, and only a udp server is (transport=udp)' : undefined);
    if (problem) throw new BurrowError('ERR_CONFIG', `server ${JSON.stringify(server.id)}: ${problem}`);
  }
}
