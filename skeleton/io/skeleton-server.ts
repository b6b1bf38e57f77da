/** A server the skeleton fronts: where it is, its secret, and what the listing says of it. */
import type { ServerInfo } from '../../shared/protocol/messages.js';
import type { Redacted } from '../../shared/redacted.js';

export interface SkeletonServer {
  id: string;
  host: string;
  port: number;
  secret: Redacted<Buffer>;
  description: string;
  /** A hint for clients (http, ssh, smtp, tcp...). */
  protocol: string;
}

export function serverInfo(server: SkeletonServer): ServerInfo {
  return { id: server.id, description: server.description, protocol: server.protocol };
}
