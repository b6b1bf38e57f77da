/**
 * The most recent refused logins, for the admin API and the dashboard: when, the user name as given,
 * the role it tried and why. Never a password; never an address (the logs have the source). The name
 * is the peer's own text: cut and escaped (shared/display-text.ts).
 */
import { forTerminal } from '../../shared/display-text.js';
import type { LoginFailure, RelayNote } from '../core/relay-events.js';

export interface FailedLogin {
  time: string;
  /** The name as given; absent when the login could not even be opened. */
  user?: string;
  role: 'client' | 'skeleton';
  reason: LoginFailure;
}

export class FailedLogins {
  readonly #items: FailedLogin[] = [];

  constructor(readonly max = 100) {}

  record(note: RelayNote): void {
    if (note.kind !== 'login' || note.ok) return;
    // A name is at most 64 characters when valid; anything given is cut, so the list stays small, and
    // control or bidi characters are escaped: the dashboard and API clients show it to an operator.
    const user = note.user === undefined ? undefined : forTerminal(note.user.slice(0, 64));
    this.#items.push({ time: new Date(note.at).toISOString(), ...(user !== undefined ? { user } : {}), role: note.port, reason: note.reason });
    if (this.#items.length > this.max) this.#items.shift();
  }

  /** Newest first. */
  list(): FailedLogin[] {
    return [...this.#items].reverse();
  }
}
