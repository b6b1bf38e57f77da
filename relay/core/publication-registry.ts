/**
 * Publication url -> the skeleton account that publishes it, the server behind it and its front-door
 * rules. Ownership works as for server ids (S9): a url live for one account is refused to every other;
 * the account's own sessions share it (a group, or a skeleton that came back before the relay noticed
 * its old session died). Each holder keeps the server and rules it asked for; the newest holder's apply,
 * and when it leaves, the newest of those left takes over again. It is gone when the last holder lets go.
 * In a cluster a new url is `pending` until the cluster confirms no other account holds it at another
 * relay: nothing is routed to it, and its port is not opened, before then.
 */
import type { ErrorCode } from '../../shared/errors.js';
import type { Publication } from '../../shared/protocol/messages.js';
import type { PublicationTarget } from '../../shared/protocol/publication-url.js';

export interface PublicationRecord {
  url: string;
  target: PublicationTarget;
  server: string;
  user: string;
  /** Sessions holding it, oldest first. */
  holders: string[];
  rules: Omit<Publication, 'server' | 'url'>;
  since: number;
  /** What each holder asked for: `server` and `rules` are the newest holder's. */
  asked: Map<string, { server: string; rules: Omit<Publication, 'server' | 'url'> }>;
  /** Claimed here, not yet confirmed by the cluster: not routed to. */
  pending?: boolean;
}

/**
 * How long a shared-port name whose last holder let go is remembered as gone for now (its skeleton
 * restarting, or reconnecting): the HTTP port answers `503` with `Retry-After` for it, not `404`.
 */
export const GONE_MS = 5 * 60_000;
/** Names remembered so at most (the oldest are forgotten first)... */
export const MAX_GONE = 10_000;
/** ...and per account, so one churning its names under a wildcard grant cannot push out another's. */
export const MAX_GONE_PER_ACCOUNT = 1_000;

export type PublishResult = { ok: true; fresh: boolean } | { ok: false; code: ErrorCode };

export class PublicationRegistry {
  readonly #byUrl = new Map<string, PublicationRecord>();
  /** Shared-port urls whose last holder let go, when, and whose (insertion order: the oldest first). */
  readonly #gone = new Map<string, { at: number; user: string }>();
  readonly #gonePerUser = new Map<string, number>();

  get(url: string): PublicationRecord | undefined {
    return this.#byUrl.get(url);
  }

  get size(): number {
    return this.#byUrl.size;
  }

  claim(pub: Publication, target: PublicationTarget, sid: string, user: string, now: number): PublishResult {
    const existing = this.#byUrl.get(pub.url);
    if (existing && existing.user !== user) return { ok: false, code: 'ERR_PUBLICATION_TAKEN' };
    const { server, url, ...rules } = pub;
    if (existing) {
      existing.holders = [...existing.holders.filter((h) => h !== sid), sid];
      existing.asked.set(sid, { server, rules });
      Object.assign(existing, { server, rules });
      return { ok: true, fresh: false };
    }
    this.#byUrl.set(url, { url, target, server, user, holders: [sid], rules, since: now, asked: new Map([[sid, { server, rules }]]) });
    this.#forget(url);
    return { ok: true, fresh: true };
  }

  /**
   * The session lets go of a url; true when nobody holds it any more (a tcp port then closes). With
   * `goneAt` (its skeleton withdrew it or went away, not a revoked or refused grant) a shared-port name
   * nobody holds any more is remembered as gone for now (recentlyGone).
   */
  release(url: string, sid: string, goneAt?: number): boolean {
    const record = this.#byUrl.get(url);
    if (!record) return false;
    record.holders = record.holders.filter((h) => h !== sid);
    record.asked.delete(sid);
    const newest = record.holders.at(-1);
    if (newest !== undefined) {
      Object.assign(record, record.asked.get(newest));
      return false;
    }
    this.#byUrl.delete(url);
    if (goneAt !== undefined && (record.target.kind === 'http' || record.target.kind === 'https')) this.#remember(url, goneAt, record.user);
    return true;
  }

  #remember(url: string, at: number, user: string): void {
    this.#forget(url);
    if ((this.#gonePerUser.get(user) ?? 0) >= MAX_GONE_PER_ACCOUNT) {
      for (const [old, entry] of this.#gone) {
        if (entry.user !== user) continue;
        this.#forget(old);
        break;
      }
    }
    if (this.#gone.size >= MAX_GONE) this.#forget(this.#gone.keys().next().value as string);
    this.#gone.set(url, { at, user });
    this.#gonePerUser.set(user, (this.#gonePerUser.get(user) ?? 0) + 1);
  }

  /** Accounts with names remembered as gone for now. */
  goneAccounts(): string[] {
    return [...this.#gonePerUser.keys()];
  }

  /** The account was disabled, removed or revoked: its names are not coming back (404, not 503). */
  forgetAccount(user: string): void {
    for (const [url, entry] of [...this.#gone]) if (entry.user === user) this.#forget(url);
  }

  #forget(url: string): void {
    const entry = this.#gone.get(url);
    if (!entry) return;
    this.#gone.delete(url);
    const left = (this.#gonePerUser.get(entry.user) ?? 1) - 1;
    if (left > 0) this.#gonePerUser.set(entry.user, left);
    else this.#gonePerUser.delete(entry.user);
  }

  /**
   * A host name on the shared HTTP or HTTPS port that no publication serves now but one did within
   * GONE_MS (its skeleton is restarting or reconnecting), matched as resolveHost matches.
   */
  recentlyGone(kind: 'http' | 'https', host: string, now: number): boolean {
    const dot = host.indexOf('.');
    for (const url of [`${kind}://${host}`, ...(dot > 0 ? [`${kind}://*${host.slice(dot)}`] : [])]) {
      const entry = this.#gone.get(url);
      if (entry === undefined) continue;
      if (now - entry.at < GONE_MS) return true;
      this.#forget(url);
    }
    return false;
  }

  /** Urls a session holds. */
  heldBy(sid: string): string[] {
    return [...this.#byUrl.values()].filter((r) => r.holders.includes(sid)).map((r) => r.url);
  }

  /**
   * The publication for a host name on the shared HTTP or HTTPS port: the exact name first, then the
   * wildcard one label up (`a.b.zone` matches `*.b.zone`, never `*.zone`, nor does `zone` match
   * `*.zone`): the rule of wildcard certificates, so a name routes the same way over HTTP and HTTPS.
   * `host` is lower case.
   */
  resolveHost(kind: 'http' | 'https', host: string): PublicationRecord | undefined {
    const exact = this.#live(`${kind}://${host}`);
    if (exact) return exact;
    const dot = host.indexOf('.');
    return dot > 0 ? this.#live(`${kind}://*${host.slice(dot)}`) : undefined;
  }

  /** A url that is routed to: held, and not waiting for the cluster. */
  #live(url: string): PublicationRecord | undefined {
    const record = this.#byUrl.get(url);
    return record?.pending ? undefined : record;
  }

  all(): PublicationRecord[] {
    return [...this.#byUrl.values()];
  }
}
