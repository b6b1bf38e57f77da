/** Joins a started relay to its cluster: the Redis link, wired to the runtime and the users file. */
import { randomBytes } from 'node:crypto';
import { TicketKeys } from '../../shared/crypto/session-ticket.js';
import type { RelayIdentity } from '../../shared/crypto/relay-key-files.js';
import { BurrowError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { formatHostPort } from '../../shared/peer/relay-address.js';
import type { RelayRuntime } from '../io/relay-runtime.js';
import type { UsersStore } from '../io/users-store.js';
import { ClusterLink } from './cluster-link.js';
import type { SharedEntry } from './redis-registry.js';

export interface ClusterOptions {
  /** redis://HOST:PORT (rediss:// for TLS; credentials in the URL are never logged). */
  url: string;
  /** This relay's id in the cluster (default: random per start). */
  relayId?: string;
  /** HOST:PORT of this relay's skeleton port as skeletons reach it (default: the bound address, if specific). */
  advertise?: string;
  heartbeatMs?: number;
  retryMaxMs?: number;
  ticketTtlSeconds?: number;
}

const RELAY_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** The relay id and advertised address, checked; a wildcard bind address cannot be advertised. */
export function clusterIdentity(opts: ClusterOptions, skeleton: { address: string; port: number }): { relayId: string; advertise: string } {
  const relayId = opts.relayId ?? randomBytes(6).toString('hex');
  if (!RELAY_ID.test(relayId)) throw new BurrowError('ERR_CONFIG', 'cluster relay id: letters, digits, _ . - only (1 to 64)');
  if (opts.advertise !== undefined) return { relayId, advertise: opts.advertise };
  if (skeleton.address === '0.0.0.0' || skeleton.address === '::') {
    throw new BurrowError('ERR_CONFIG', 'a cluster relay listening on all addresses needs --cluster-advertise HOST:PORT (its skeleton port as skeletons reach it)');
  }
  return { relayId, advertise: formatHostPort(skeleton.address, skeleton.port) };
}

export function createClusterLink(
  opts: ClusterOptions, id: { relayId: string; advertise: string }, identity: RelayIdentity, runtime: RelayRuntime, users: UsersStore, log: Logger,
): ClusterLink {
  // A server reached only through publications is not listed to clients anywhere in the cluster.
  const localEntries = (): SharedEntry[] => runtime.core.state.registry.list().filter((reg) => !reg.publicOnly).map((reg) => ({
    id: reg.info.id, user: reg.user, sid: reg.sid, info: reg.info, ...(reg.proxy ? { proxy: reg.proxy } : {}),
  }));
  const localPublications = (): { url: string; user: string }[] => runtime.core.state.publications.all().map((p) => ({ url: p.url, user: p.user }));
  const link = new ClusterLink(
    { url: opts.url, ...id, heartbeatMs: opts.heartbeatMs ?? 5000, retryMaxMs: opts.retryMaxMs ?? 5000, ticketTtlSeconds: opts.ticketTtlSeconds ?? 60 },
    new TicketKeys(identity.privateKey, identity.publicKey), log.child({ cluster: id.relayId }), (event) => runtime.dispatch(event), localEntries, localPublications,
    async (name) => (await users.current()).get(name),
  );
  runtime.cluster = link;
  // Logins, tickets and the admin API now see the accounts merged from the file and the cluster.
  users.setOverlay(link.usersOverlay);
  link.usersViewChanged = () => users.overlayChanged();
  return link;
}
