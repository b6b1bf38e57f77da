/**
 * The client's login, kept for as long as it lives. With keepAlive (a long-running forwarder), a lost
 * session is made again in the background with backoff and full jitter, or after the relay's Goodbye
 * says; either way any later stream logs in on demand if there is no session yet.
 */
import { Backoff } from '../../shared/backoff.js';
import { BurrowError, codeOf, type ErrorCode } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { ControlChannel } from '../../shared/peer/control-channel.js';
import { login, type Credentials, type PeerSession } from '../../shared/peer/peer-login.js';
import type { RelayTarget } from '../../shared/peer/relay-address.js';

const FATAL_ON_RELOGIN: ReadonlySet<ErrorCode> = new Set(['ERR_AUTH_FAILED', 'ERR_RELAY_KEY_MISMATCH', 'ERR_VERSION_MISMATCH']);

export interface LiveSession {
  session: PeerSession;
  control: ControlChannel;
  /** The relay this session is logged in to: its streams attach there. */
  relay: RelayTarget;
}

export class ClientSession {
  #live: Promise<LiveSession> | undefined;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;
  readonly #backoff = new Backoff();
  /** Index of the relay address to try first: the last one that worked, or the one after a lost one. */
  #first = 0;

  constructor(
    private readonly relays: RelayTarget[],
    private readonly creds: Credentials,
    private readonly log: Logger,
    private readonly opts: { keepAlive?: boolean; onFatal?: (err: BurrowError) => void } = {},
  ) {}

  /** The current session, logging in first if there is none or it has closed. */
  get(): Promise<LiveSession> {
    if (this.#closed) return Promise.reject(new Error('client closed'));
    this.#live ??= this.#login();
    return this.#live;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
    void this.#live?.then(({ control }) => control.close(), () => undefined);
  }

  /** Forgets a session that failed a request, so the next get() logs in at the next relay address. */
  drop(live: LiveSession): void {
    void this.#live?.then((current) => {
      if (current !== live) return;
      this.#first = (this.relays.indexOf(live.relay) + 1) % this.relays.length;
      live.control.close();
    }, () => undefined);
  }

  /** Tries each relay address in turn; what retrying cannot fix (a refused account or key) stops at once. */
  async #loginAny(): Promise<{ session: PeerSession; relay: RelayTarget; index: number }> {
    let last: unknown;
    for (let i = 0; i < this.relays.length; i++) {
      const index = (this.#first + i) % this.relays.length;
      const relay = this.relays[index]!;
      try {
        return { session: await login(relay, 'client', this.creds), relay, index };
      } catch (err) {
        if (FATAL_ON_RELOGIN.has(codeOf(err))) throw err;
        if (this.relays.length > 1) this.log.warn({ relay: `${relay.host}:${relay.port}`, code: codeOf(err) }, 'relay login failed, trying the next relay');
        last = err;
      }
    }
    throw last;
  }

  async #login(): Promise<LiveSession> {
    try {
      const { session, relay, index } = await this.#loginAny();
      this.#first = index;
      const control = new ControlChannel(session);
      let retryAfterMs: number | undefined;
      control.on('message', (msg) => {
        if (msg.t !== 'goodbye') return;
        retryAfterMs = msg.retryAfter * 1000 + Math.floor(Math.random() * 1000);
        control.close();
      });
      control.once('close', (reason) => {
        this.#live = undefined;
        // Lost or said goodbye: the next login starts with the next relay address.
        if (this.relays.length > 1) this.#first = (index + 1) % this.relays.length;
        if (this.#closed) return;
        this.log.info({ code: reason.code }, 'relay session closed');
        if (this.opts.keepAlive) this.#schedule(retryAfterMs ?? this.#backoff.next(Date.now()), retryAfterMs ? 'ERR_SHUTTING_DOWN' : reason.code);
      });
      this.#backoff.connected(Date.now());
      clearTimeout(this.#retry);
      this.log.debug({ session: session.sid }, 'logged in to relay');
      return { session, control, relay };
    } catch (err) {
      this.#live = undefined;
      throw err;
    }
  }

  #schedule(afterMs: number, code: ErrorCode): void {
    clearTimeout(this.#retry);
    this.log.info({ code, retryInMs: afterMs }, 'reconnecting to relay');
    this.#retry = setTimeout(() => {
      if (this.#closed || this.#live) return;
      this.get().then(
        () => this.log.info('logged in to relay again'),
        (err: unknown) => {
          const code = codeOf(err);
          if (!FATAL_ON_RELOGIN.has(code)) return this.#schedule(this.#backoff.next(Date.now()), code);
          // Retrying a refused account would only earn this address penalties at the relay.
          this.log.error({ code }, 'relay refused this account; not logging in again');
          this.close();
          this.opts.onFatal?.(err instanceof BurrowError ? err : new BurrowError(code));
        },
      );
    }, afterMs);
  }
}
