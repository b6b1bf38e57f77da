/** Every Redis key and pub/sub channel the relay cluster uses (docs/CLUSTER.md lists what each holds). */
export const KEYS = {
  /** ZSET relay id -> expiry (ms): the live relays. */
  relays: 'burrow:relays',
  /** HASH per relay: server id -> JSON registration; PEXPIRE'd by the heartbeat. */
  relayPrefix: 'burrow:relay:',
  /** STRING per server id: the owning account; PEXPIRE'd by every holder's heartbeat. */
  ownerPrefix: 'burrow:owner:',
  /** SET of account names disabled on some relay. */
  revoked: 'burrow:revoked',
  /** HASH per relay: dashboard counters (best effort). */
  statsPrefix: 'burrow:stats:',
} as const;

export const CHANNELS = {
  /** Per relay: dial requests from the other relays. */
  dial: (relayId: string): string => `burrow:dial:${relayId}`,
  /** The revocation set changed. */
  revoked: 'burrow:revocations',
  /** A relay saw a failed login: JSON {from, source, user?}. */
  penalties: 'burrow:penalties',
} as const;
