/**
 * The client's login, kept for as long as it lives and made again on demand after it closes (the relay
 * restarted, the network blinked): a long-running forwarder heals on its next stream.
 */
import type { Logger } from '../../shared/log.js';
import { ControlChannel } from '../../shared/peer/control-channel.js';
import { login, type Credentials, type PeerSession } from '../../shared/peer/peer-login.js';
import type { RelayTarget } from '../../shared/peer/relay-address.js';

export interface LiveSession {
  session: PeerSession;
  control: ControlChannel;
}

export class ClientSession {
  #live: Promise<LiveSession> | undefined;
  #closed = false;

  constructor(private readonly relay: RelayTarget, private readonly creds: Credentials, private readonly log: Logger) {}

  /** The current session, logging in first if there is none or it has closed. */
  get(): Promise<LiveSession> {
    if (this.#closed) return Promise.reject(new Error('client closed'));
    this.#live ??= this.#login();
    return this.#live;
  }

  close(): void {
    this.#closed = true;
    void this.#live?.then(({ control }) => control.close(), () => undefined);
  }

  async #login(): Promise<LiveSession> {
    try {
      const session = await login(this.relay, 'client', this.creds);
      const control = new ControlChannel(session);
      control.on('message', (msg) => {
        if (msg.t === 'goodbye') control.close();
      });
      control.once('close', (reason) => {
        this.#live = undefined;
        if (!this.#closed) this.log.info({ code: reason.code }, 'relay session closed; will log in again on demand');
      });
      this.log.debug({ session: session.sid }, 'logged in to relay');
      return { session, control };
    } catch (err) {
      this.#live = undefined;
      throw err;
    }
  }
}
