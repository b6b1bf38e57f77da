/**
 * Server id -> the skeleton sessions that serve it (S9). An id belongs to one account while any of its
 * sessions serves it; another account is refused. Sessions of that account form a load-balancing group
 * (as frp's groups do): each advertises the id with its process's `instance` token, new streams go to
 * the members in turn (those with an idle pooled connection first), and when one leaves the others go on
 * serving. A session of the same instance replaces its stale predecessor at once (the same skeleton
 * logging in again before the relay noticed the old session died); so does any session of an account
 * whose skeletons send no instance, as before groups.
 */
import type { ErrorCode } from '../../shared/errors.js';
import type { AdvertisedServer, ServerInfo } from '../../shared/protocol/messages.js';
import { byId } from './listing-page.js';

export interface Registration {
  /** What listings show: id, description, protocol. */
  info: ServerInfo;
  /** PROXY protocol version the server wants, if it opted in (and the relay allows it). */
  proxy?: 'v1' | 'v2';
  /** Reached only through publications: not listed to clients, not opened by them. */
  publicOnly?: boolean;
  sid: string;
  user: string;
  since: number;
  /** The advertising skeleton process's token ('' when it sent none). */
  instance: string;
}

export type ClaimResult = { ok: true; replaced?: string } | { ok: false; code: ErrorCode };

export class ServerRegistry {
  /** Members of each id, in the order they joined. */
  readonly #groups = new Map<string, Registration[]>();
  /** Where the turn of each id's group stands. */
  readonly #turn = new Map<string, number>();
  /** What listings page through: one entry per id, sorted by id; rebuilt after a change, not per request. */
  #sorted: readonly ServerInfo[] | undefined;

  /** The first member of an id's group: what listings show of it. */
  get(id: string): Registration | undefined {
    return this.#groups.get(id)?.[0];
  }

  /** The registration of one session for an id. */
  member(id: string, sid: string): Registration | undefined {
    return this.#groups.get(id)?.find((r) => r.sid === sid);
  }

  /** The member that serves the next stream: in turn, members with an idle connection first. */
  pick(id: string, hasIdle: (sid: string) => boolean): Registration | undefined {
    const group = this.#groups.get(id);
    if (!group || group.length === 0) return undefined;
    const start = (this.#turn.get(id) ?? 0) % group.length;
    const order = group.map((_, k) => group[(start + k) % group.length]!);
    const chosen = order.find((r) => hasIdle(r.sid)) ?? order[0]!;
    this.#turn.set(id, (group.indexOf(chosen) + 1) % group.length);
    return chosen;
  }

  /** Claims an id for a session; `replaced` is the sid of a same-account, same-instance session that lost it. */
  claim(advertised: AdvertisedServer, sid: string, user: string, now: number, instance = '', yieldToSame = false): ClaimResult {
    const { proxy, publicOnly, ...info } = advertised;
    this.#sorted = undefined;
    const group = this.#groups.get(info.id) ?? [];
    if (group.some((r) => r.user !== user)) return { ok: false, code: 'ERR_SERVER_ID_TAKEN' };
    const mine: Registration = { info, sid, user, since: now, instance, ...(proxy ? { proxy } : {}), ...(publicOnly ? { publicOnly } : {}) };
    const own = group.findIndex((r) => r.sid === sid);
    if (own >= 0) {
      group[own] = { ...mine, since: group[own]!.since };
      return { ok: true };
    }
    const stale = group.findIndex((r) => r.instance === instance);
    // A displaced skeleton asking again gets the id only once its own instance's other session has let go.
    if (stale >= 0 && yieldToSame) return { ok: false, code: 'ERR_SERVER_ID_TAKEN' };
    const replaced = stale >= 0 ? group.splice(stale, 1)[0]!.sid : undefined;
    group.push(mine);
    this.#groups.set(info.id, group);
    return replaced ? { ok: true, replaced } : { ok: true };
  }

  /** Frees every id a session holds; returns them. */
  releaseSession(sid: string): string[] {
    const freed: string[] = [];
    for (const id of [...this.#groups.keys()]) {
      if (this.member(id, sid)) {
        this.release(id, sid);
        freed.push(id);
      }
    }
    return freed;
  }

  release(id: string, sid: string): void {
    const group = this.#groups.get(id);
    if (!group) return;
    this.#sorted = undefined;
    const rest = group.filter((r) => r.sid !== sid);
    if (rest.length > 0) this.#groups.set(id, rest);
    else {
      this.#groups.delete(id);
      this.#turn.delete(id);
    }
  }

  /** One registration per id (its first member): what the relay lists and publishes to its cluster. */
  list(): Registration[] {
    return [...this.#groups.values()].map((group) => group[0]!);
  }

  /** The listing of every id (its first member's info), sorted by id in code-point order. */
  sortedInfos(): readonly ServerInfo[] {
    this.#sorted ??= this.list().filter((reg) => !reg.publicOnly).map((reg) => reg.info).sort(byId);
    return this.#sorted;
  }

  /** Every member of every group (the admin API shows each session that serves an id). */
  all(): Registration[] {
    return [...this.#groups.values()].flat();
  }
}
