/** A server the skeleton fronts: where it is, its secret, and what the listing says of it. */
import type { AdvertisedServer } from '../../shared/protocol/messages.js';
import type { Redacted } from '../../shared/redacted.js';

export interface SkeletonServer {
  id: string;
  host: string;
  port: number;
  secret: Redacted<Buffer>;
  description: string;
  /** A hint for clients (http, ssh, smtp, tcp...). */
  protocol: string;
  /** Send the real client address to the target in a PROXY protocol header (the relay must allow it). */
  proxy?: 'v1' | 'v2';
}

export function serverInfo(server: SkeletonServer): AdvertisedServer {
  const info: AdvertisedServer = { id: server.id, description: server.description, protocol: server.protocol };
  if (server.proxy) info.proxy = server.proxy;
  return info;
}
