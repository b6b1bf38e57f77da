/**
 * Session tickets for attaching streams at another relay of a cluster: asked of the session's relay over
 * the control channel and reused until shortly before they expire. A ticket alone attaches nothing: the
 * attach still carries the HMAC of this session's attach key over the other relay's challenge.
 */
import { BurrowError } from '../../shared/errors.js';
import type { LiveSession } from './client-session.js';

const RENEW_BEFORE_MS = 10_000;

export class TicketCache {
  #live: LiveSession | undefined;
  #ticket: Promise<{ ticket: string; exp: number }> | undefined;

  async get(live: LiveSession, now = Date.now()): Promise<string> {
    if (this.#live !== live) {
      this.#live = live;
      this.#ticket = undefined;
    }
    const cached = this.#ticket ? await this.#ticket.catch(() => undefined) : undefined;
    if (cached && cached.exp - RENEW_BEFORE_MS > now) return cached.ticket;
    this.#ticket = live.control.request((id) => ({ t: 'ticket-request', id })).then((reply) => {
      if (reply.t !== 'ticket') throw new BurrowError('ERR_PROTOCOL', `expected ticket, got ${reply.t}`);
      return { ticket: reply.ticket, exp: reply.exp };
    });
    return (await this.#ticket).ticket;
  }
}
