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
  /** Streams of one account over all its sessions (each is two sockets at the relay). */
  maxStreamsPerUser: number;
  /** Streams of one account waiting for a skeleton to dial in, at once. */
  maxWaitingPerUser: number;
  maxSessionsPerUser: number;
  /** Idle pooled data connections one skeleton session may park at the relay. */
  maxPoolPerSession: number;
  /** Password checks (argon2) running at once; startRelay sets it from its argon2 concurrency. */
  loginConcurrency: number;
  /**
   * Logins one source address (or IPv6 /64) may have waiting for or in their password check. Sources take
   * turns and a penalised source's waiting logins are refused without work, so this only bounds memory.
   */
  maxLoginsPerSource: number;
  /** Logins waiting for a password check, over all sources that have not logged in before. */
  maxQueuedLogins: number;
  /** A login still waiting for its password check this long after it arrived is refused with ERR_BUSY. */
  loginTimeoutMs: number;
  /** Control messages an account's sessions may send at once, and per second after that; beyond, they are read more slowly. */
  controlBurst: number;
  controlPerSecond: number;
}

export const DEFAULT_RELAY_LIMITS: RelayLimits = {
  handshakeTimeoutMs: 10_000,
  loginMaxAgeMs: 30_000,
  dialTimeoutMs: 10_000,
  pingMs: 10_000,
  deadMs: 30_000,
  maxServersPerSkeleton: 64,
  maxStreamsPerSession: 1024,
  maxStreamsPerUser: 4096,
  maxWaitingPerUser: 256,
  maxSessionsPerUser: 32,
  maxPoolPerSession: 64,
  loginConcurrency: 1,
  maxLoginsPerSource: 32,
  maxQueuedLogins: 256,
  loginTimeoutMs: 10_000,
  controlBurst: 200,
  controlPerSecond: 50,
};
