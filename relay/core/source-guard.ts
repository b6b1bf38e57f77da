/**
 * Brute-force defence (S6), after OpenSSH's PerSourcePenalties and PerSourceMaxStartups:
 * - each source address (IPv4, or an IPv6 /64) earns penalty time for failed logins, bad attach proofs,
 *   garbage and handshake timeouts; once its penalty reaches a minimum it is refused until the penalty
 *   has run out, and a source that keeps failing earns longer and longer refusals, up to a maximum;
 * - concurrent unauthenticated connections are capped per source and overall;
 * - failed logins are also counted per user name (any name, existing or not, so this is no oracle),
 *   at most a few per source, so this catches guessing spread over many addresses (one address is the
 *   per-source penalties' job): past a limit in a window, that name is throttled, but never from a
 *   source that has logged in as that user before, so an attacker elsewhere cannot lock the real user
 *   out of their usual places;
 * - a source that has logged in before (any account, remembered like the rest) is trusted: the relay-wide
 *   cap on unauthenticated connections does not apply to it (its own per-source cap does), so strangers
 *   filling that cap cannot keep logged-in peers from attaching their data connections; its penalty
 *   refuses its logins (without a password check), not its connections, so one user's wrong passwords
 *   behind a NAT do not cut the streams of sessions already logged in from there; and its logins go
 *   first in the login queue (login-queue.ts).
 */
import { isIPv6 } from 'node:net';
import { TokenBucket } from './token-bucket.js';

export interface GuardLimits {
  maxUnauthPerSource: number;
  maxUnauth: number;
  /** Penalty for a failed login or attach proof. */
  penaltyAuthFailMs: number;
  /** Penalty for garbage or a handshake that never completed. */
  penaltyNoAuthMs: number;
  /** A source is refused once its penalty reaches this. */
  penaltyMinMs: number;
  penaltyMaxMs: number;
  /** Failed logins per user name within userWindowMs before the name is throttled. */
  userMaxFailures: number;
  /** How many of those one source can contribute. */
  userFailuresPerSource: number;
  userWindowMs: number;
  /** Bound on the memory the guard uses: the oldest records are forgotten first. */
  maxTracked: number;
  /**
   * Successful logins a source may make at once, and per second after that, before each further one is
   * charged like an unfinished handshake: a right password costs a password check too, so an account
   * holder looping logins (and hanging up on each Welcome) earns its address a pause like anyone else.
   */
  loginBurst: number;
  loginsPerSecond: number;
  /** A penalised source that has logged in before is still admitted (its data connections), at this rate. */
  trustedWhilePenalisedPerSecond: number;
}

export const DEFAULT_GUARD_LIMITS: GuardLimits = {
  maxUnauthPerSource: 32,
  maxUnauth: 512,
  penaltyAuthFailMs: 5_000,
  penaltyNoAuthMs: 2_000,
  penaltyMinMs: 15_000,
  penaltyMaxMs: 600_000,
  userMaxFailures: 20,
  userFailuresPerSource: 3,
  userWindowMs: 300_000,
  maxTracked: 65_536,
  loginBurst: 60,
  loginsPerSecond: 1,
  trustedWhilePenalisedPerSecond: 20,
};

export type Offence = 'auth-fail' | 'no-auth';

/** Hang-ups after the Hello a source may make before they are charged (see hungUpAfterHello). */
const HANG_UPS_FREE = 10;
export type Admission = 'ok' | 'throttled' | 'busy';

interface Penalty {
  penaltyMs: number;
  /** Refused until then, if penaltyMs has reached the minimum. */
  until: number;
}

/** The unit penalties are kept per: an IPv4 address, or the /64 of an IPv6 address. */
export function sourceKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = address.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** A Map that forgets its oldest entries past a size. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) map.delete(map.keys().next().value as K);
}

export class SourceGuard {
  readonly #penalties = new Map<string, Penalty>();
  readonly #unauth = new Map<string, number>();
  #unauthTotal = 0;
  readonly #userFailures = new Map<string, { at: number; source: string }[]>();
  readonly #knownGood = new Map<string, Set<string>>();
  readonly #trusted = new Map<string, true>();
  readonly #logins = new Map<string, TokenBucket>();
  readonly #penalisedAdmits = new Map<string, TokenBucket>();
  readonly #hangUps = new Map<string, TokenBucket>();

  constructor(readonly limits: GuardLimits = DEFAULT_GUARD_LIMITS) {}

  /** Whether `source` is refused right now because of its penalty. */
  throttled(source: string, now: number): boolean {
    const penalty = this.#penalties.get(source);
    return penalty !== undefined && penalty.penaltyMs >= this.limits.penaltyMinMs && now < penalty.until;
  }

  /** Whether a new connection from `source` may start a handshake; if so it counts as unauthenticated. */
  admit(source: string, now: number): Admission {
    // A source that has logged in before is not refused at connect: its sessions' data connections
    // (an HMAC each) still attach while someone else's wrong passwords from the same address (a NAT)
    // have it penalised; its logins are refused without a check until the penalty has run out.
    if (this.throttled(source, now) && (!this.#trusted.has(source) || this.#overPenalisedRate(source, now))) return 'throttled';
    const open = this.#unauth.get(source) ?? 0;
    if (open >= this.limits.maxUnauthPerSource || (this.#unauthTotal >= this.limits.maxUnauth && !this.#trusted.has(source))) return 'busy';
    this.#unauth.set(source, open + 1);
    this.#unauthTotal++;
    return 'ok';
  }

  /** An admitted connection authenticated or closed. */
  release(source: string): void {
    const open = this.#unauth.get(source) ?? 0;
    if (open <= 0) return;
    if (open === 1) this.#unauth.delete(source);
    else this.#unauth.set(source, open - 1);
    this.#unauthTotal--;
  }

  penalize(source: string, offence: Offence, now: number): void {
    const previous = this.#penalties.get(source);
    // A penalty long run out is forgiven; a recent one keeps growing.
    const carried = previous && now < previous.until + this.limits.penaltyMaxMs ? previous.penaltyMs : 0;
    const add = offence === 'auth-fail' ? this.limits.penaltyAuthFailMs : this.limits.penaltyNoAuthMs;
    const penaltyMs = Math.min(this.limits.penaltyMaxMs, carried + add);
    remember(this.#penalties, source, { penaltyMs, until: now + penaltyMs }, this.limits.maxTracked);
  }

  /** Whether logins as `user` are throttled for this source. */
  userThrottled(user: string, source: string, now: number): boolean {
    if (this.#knownGood.get(user)?.has(source)) return false;
    return this.#recentFailures(user, now).length >= this.limits.userMaxFailures;
  }

  userFailed(user: string, source: string, now: number): void {
    const recent = this.#recentFailures(user, now);
    // A source beyond its share adds nothing: its own penalties already hold it back.
    if (recent.filter((f) => f.source === source).length >= this.limits.userFailuresPerSource) return;
    recent.push({ at: now, source });
    remember(this.#userFailures, user, recent.slice(-this.limits.userMaxFailures), this.limits.maxTracked);
  }

  /** A login from `source` succeeded; false (and the source charged) if it is over its login budget. */
  loginSucceeded(source: string, now: number): boolean {
    let bucket = this.#logins.get(source);
    if (!bucket) {
      bucket = new TokenBucket(this.limits.loginBurst, this.limits.loginsPerSecond, now);
      remember(this.#logins, source, bucket, this.limits.maxTracked);
    }
    if (bucket.tryTake(now)) return true;
    this.penalize(source, 'no-auth', now);
    return false;
  }

  /**
   * A connection from `source` read the Hello and hung up. A peer may do that now and then for good reason
   * (client trust reads the key and leaves; a peer at the wrong port, or one that refuses the relay's key,
   * leaves without a word), so the first few are free; past HANG_UPS_FREE in a burst (refilled one per
   * 10 s) each is charged like an unfinished handshake, so a flood of them costs its source.
   */
  hungUpAfterHello(source: string, now: number): void {
    let bucket = this.#hangUps.get(source);
    if (!bucket) {
      bucket = new TokenBucket(HANG_UPS_FREE, 0.1, now);
      remember(this.#hangUps, source, bucket, this.limits.maxTracked);
    }
    if (!bucket.tryTake(now)) this.penalize(source, 'no-auth', now);
  }

  /** A penalised trusted source's connections are admitted at a bounded rate (Hello-and-hang-up floods). */
  #overPenalisedRate(source: string, now: number): boolean {
    let bucket = this.#penalisedAdmits.get(source);
    if (!bucket) {
      bucket = new TokenBucket(this.limits.trustedWhilePenalisedPerSecond, this.limits.trustedWhilePenalisedPerSecond, now);
      remember(this.#penalisedAdmits, source, bucket, this.limits.maxTracked);
    }
    return !bucket.tryTake(now);
  }

  /** Whether `source` has logged in before (see the header). */
  trusted(source: string): boolean {
    return this.#trusted.has(source);
  }

  userSucceeded(user: string, source: string): void {
    remember(this.#trusted, source, true, this.limits.maxTracked);
    const sources = this.#knownGood.get(user) ?? new Set<string>();
    sources.add(source);
    if (sources.size > 32) sources.delete(sources.values().next().value as string);
    remember(this.#knownGood, user, sources, this.limits.maxTracked);
  }

  /** Source addresses (or /64s) refused right now because of their penalty. */
  penalised(now: number): number {
    let n = 0;
    for (const p of this.#penalties.values()) if (p.penaltyMs >= this.limits.penaltyMinMs && now < p.until) n++;
    return n;
  }

  get unauthenticated(): number {
    return this.#unauthTotal;
  }

  #recentFailures(user: string, now: number): { at: number; source: string }[] {
    return (this.#userFailures.get(user) ?? []).filter((f) => now - f.at < this.limits.userWindowMs);
  }
}
