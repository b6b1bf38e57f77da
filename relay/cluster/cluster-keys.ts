/** Every Redis key and pub/sub channel the relay cluster uses (docs/CLUSTER.md lists what each holds). */
export const KEYS = {
  /** ZSET relay id -> expiry (ms): the live relays. */
  relays: 'burrow:relays',
  /** HASH per relay: server id -> JSON registration; PEXPIRE'd by the heartbeat. */
  relayPrefix: 'burrow:relay:',
  /** STRING per server id: the owning account; PEXPIRE'd by every holder's heartbeat. */
  ownerPrefix: 'burrow:owner:',
  /** HASH per relay: publication url -> JSON {id: url, user}; its own namespace, so listings never show publications. */
  publicationsPrefix: 'burrow:pubs:',
  /** STRING per publication url: the owning account (ownership of publications across relays). */
  publicationOwnerPrefix: 'burrow:pubowner:',
  /** HASH account name -> compact JWS of its signed record or tombstone (relay/cluster/signed-user.ts). */
  users: 'burrow:users',
  /** HASH per relay: dashboard counters (best effort). */
  statsPrefix: 'burrow:stats:',
} as const;

export const CHANNELS = {
  /** Per relay: dial requests from the other relays. */
  dial: (relayId: string): string => `burrow:dial:${relayId}`,
  /** Shared account records were written (message: the writing relay's id): reload them. */
  users: 'burrow:users-changed',
  /** A relay saw a failed login: JSON {from, source, user?}. */
  penalties: 'burrow:penalties',
  /** A session that was given tickets ended: JSON {from, sid}; its tickets open nothing anywhere. */
  sessionsEnded: 'burrow:sessions-ended',
} as const;
