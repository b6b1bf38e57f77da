/**
 * Server id -> the skeleton session that serves it (S9). An id belongs to the account that advertised
 * it while that session lives; the same account advertising it again takes it over at once; another
 * account is refused.
 */
import type { ErrorCode } from '../../shared/errors.js';
import type { AdvertisedServer, ServerInfo } from '../../shared/protocol/messages.js';

export interface Registration {
  /** What listings show: id, description, protocol. */
  info: ServerInfo;
  /** PROXY protocol version the server wants, if it opted in (and the relay allows it). */
  proxy?: 'v1' | 'v2';
  sid: string;
  user: string;
  since: number;
}

export type ClaimResult = { ok: true; replaced?: string } | { ok: false; code: ErrorCode };

export class ServerRegistry {
  readonly #servers = new Map<string, Registration>();

  get(id: string): Registration | undefined {
    return this.#servers.get(id);
  }

  /** Claims an id for a session; `replaced` is the sid of a same-account session that lost it. */
  claim(advertised: AdvertisedServer, sid: string, user: string, now: number): ClaimResult {
    const { proxy, ...info } = advertised;
    const current = this.#servers.get(info.id);
    if (current && current.user !== user) return { ok: false, code: 'ERR_SERVER_ID_TAKEN' };
    this.#servers.set(info.id, { info, sid, user, since: now, ...(proxy ? { proxy } : {}) });
    return current && current.sid !== sid ? { ok: true, replaced: current.sid } : { ok: true };
  }

  /** Frees every id a session holds; returns them. */
  releaseSession(sid: string): string[] {
    const freed: string[] = [];
    for (const [id, reg] of this.#servers) {
      if (reg.sid === sid) {
        this.#servers.delete(id);
        freed.push(id);
      }
    }
    return freed;
  }

  release(id: string, sid: string): void {
    if (this.#servers.get(id)?.sid === sid) this.#servers.delete(id);
  }

  list(): Registration[] {
    return [...this.#servers.values()];
  }
}
