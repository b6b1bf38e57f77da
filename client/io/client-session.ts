/**
 * Runs the client core (client/core/client-core.ts) against real sockets: logs in when it says, keeps
 * the live session's control channel, hands the session to the requests it grants, and keeps one
 * unref'd timer for the core's next deadline. Emits 'goodbye' when the relay said it is going away.
 */
import { EventEmitter } from 'node:events';
import { BurrowError, codeOf, failsOver, type ErrorCode } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { ControlChannel } from '../../shared/peer/control-channel.js';
import { login, type Credentials, type PeerSession } from '../../shared/peer/peer-login.js';
import type { RelayTarget } from '../../shared/peer/relay-address.js';
import { ClientCore, type ClientCommand, type ClientEvent } from '../core/client-core.js';

export interface LiveSession {
  session: PeerSession;
  control: ControlChannel;
  /** The relay this session is logged in to: its streams attach there. */
  relay: RelayTarget;
}

export interface ClientSessionOptions {
  keepAlive?: boolean;
  onFatal?: (err: BurrowError) => void;
  /** How long a request waits for a session being made again (default 10 s). */
  waitMs?: number;
}

export class ClientSession extends EventEmitter<{ goodbye: [] }> {
  readonly #core: ClientCore;
  readonly #waiters = new Map<number, { resolve: (live: LiveSession) => void; reject: (err: Error) => void }>();
  #nextWaiter = 1;
  #live: LiveSession | undefined;
  /** The last login error per code, so a rejected request gets the error with its detail. */
  #lastError: BurrowError | undefined;
  #timer: NodeJS.Timeout | undefined;
  #relogin = false;

  constructor(
    private readonly relays: RelayTarget[],
    private readonly creds: Credentials,
    private readonly log: Logger,
    private readonly opts: ClientSessionOptions = {},
  ) {
    super();
    this.#core = new ClientCore({ relays: relays.length, keepAlive: opts.keepAlive ?? false, ...(opts.waitMs !== undefined ? { waitMs: opts.waitMs } : {}) });
  }

  /** The live session, logging in (or waiting for the background login) first if there is none. */
  get(): Promise<LiveSession> {
    const id = this.#nextWaiter++;
    const promise = new Promise<LiveSession>((resolve, reject) => this.#waiters.set(id, { resolve, reject }));
    this.#dispatch({ type: 'want', id });
    return promise;
  }

  /** keepAlive: after a first login that failed for a reason retrying can fix, keep trying in the background. */
  keepTrying(): void {
    this.#dispatch({ type: 'keep-trying' });
  }

  close(): void {
    this.#dispatch({ type: 'close' });
    clearTimeout(this.#timer);
  }

  /** A request on `live` failed: true if it should be tried again on a session at the next relay. */
  failed(live: LiveSession, err: unknown): boolean {
    if (live === this.#live) return this.#dispatch({ type: 'request-failed', code: codeOf(err) }).some((c) => c.type === 'failover');
    // That session was lost meanwhile (the core has moved on to the next relay): one more try is worth it
    // when the failure is one another relay may not have.
    return this.relays.length > 1 && failsOver(err);
  }

  #dispatch(event: ClientEvent): ClientCommand[] {
    const commands = this.#core.handle(event, Date.now());
    for (const cmd of commands) this.#execute(cmd);
    clearTimeout(this.#timer);
    const next = this.#core.nextDeadline();
    if (next !== undefined) this.#timer = setTimeout(() => this.#dispatch({ type: 'tick' }), Math.max(0, next - Date.now())).unref();
    return commands;
  }

  #execute(cmd: ClientCommand): void {
    switch (cmd.type) {
      case 'login':
        return this.#login(cmd.relay);
      case 'grant':
        for (const id of cmd.ids) this.#settle(id)?.resolve(this.#live!);
        return;
      case 'reject': {
        const err = this.#lastError?.code === cmd.code ? this.#lastError : new BurrowError(cmd.code);
        for (const id of cmd.ids) this.#settle(id)?.reject(err);
        return;
      }
      case 'drop-session': {
        const live = this.#live;
        this.#live = undefined;
        live?.control.close();
        return;
      }
      case 'failover':
        return;
      case 'drain':
        this.emit('goodbye');
        return;
      case 'retry-in':
        this.#relogin = true;
        this.log.info({ code: cmd.code, retryInMs: cmd.afterMs }, 'reconnecting to relay');
        return;
      case 'fatal': {
        // Retrying a refused account would only earn this address penalties at the relay.
        this.log.error({ code: cmd.code }, 'relay refused this account; not logging in again');
        const err = this.#lastError?.code === cmd.code ? this.#lastError : new BurrowError(cmd.code);
        this.close();
        this.opts.onFatal?.(err);
        return;
      }
    }
  }

  #settle(id: number): { resolve: (live: LiveSession) => void; reject: (err: Error) => void } | undefined {
    const waiter = this.#waiters.get(id);
    this.#waiters.delete(id);
    return waiter;
  }

  #login(index: number): void {
    const relay = this.relays[index]!;
    login(relay, 'client', this.creds).then((session) => {
      if (this.#core.phase === 'closed') {
        session.channel.socket.destroy();
        return;
      }
      const control = new ControlChannel(session);
      const live: LiveSession = { session, control, relay };
      this.#live = live;
      control.on('message', (msg) => {
        if (msg.t !== 'goodbye' || this.#live !== live) return;
        this.#live = undefined;
        control.close(new BurrowError('ERR_SHUTTING_DOWN'));
        this.#dispatch({ type: 'goodbye', retryAfterMs: msg.retryAfter * 1000 });
      });
      control.once('close', (reason) => {
        if (this.#live !== live) return;
        this.#live = undefined;
        this.log.info({ code: reason.code }, 'relay session closed');
        this.#dispatch({ type: 'lost', code: reason.code });
      });
      this.log.debug({ session: session.sid }, 'logged in to relay');
      if (this.#relogin) this.log.info('logged in to relay again');
      this.#relogin = false;
      this.#dispatch({ type: 'logged-in', relay: index });
    }, (err: unknown) => {
      const code: ErrorCode = codeOf(err);
      this.#lastError = err instanceof BurrowError ? err : new BurrowError(code);
      if (this.relays.length > 1) this.log.warn({ relay: `${relay.host}:${relay.port}`, code }, 'relay login failed');
      this.#dispatch({ type: 'login-failed', relay: index, code });
    });
  }
}
