/** Every limit the relay core enforces, with its safe default. All are configurable. */
export interface RelayLimits {
  /** Time from Hello to a Login or Attach frame. */
  handshakeTimeoutMs: number;
  /** A login older than this since its challenge is refused (S2). */
  loginMaxAgeMs: number;
  /** How long a client stream waits for a skeleton to dial in. */
  dialTimeoutMs: number;
  /** Control channel heartbeat interval. */
  pingMs: number;
  /** A control channel silent this long is dead. */
  deadMs: number;
  maxServersPerSkeleton: number;
  maxStreamsPerSession: number;
  maxSessionsPerUser: number;
  /** Idle pooled data connections one skeleton session may park at the relay. */
  maxPoolPerSession: number;
}

export const DEFAULT_RELAY_LIMITS: RelayLimits = {
  handshakeTimeoutMs: 10_000,
  loginMaxAgeMs: 30_000,
  dialTimeoutMs: 10_000,
  pingMs: 10_000,
  deadMs: 30_000,
  maxServersPerSkeleton: 64,
  maxStreamsPerSession: 1024,
  maxSessionsPerUser: 32,
  maxPoolPerSession: 64,
};
