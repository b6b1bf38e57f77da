/**
 * connect(options): the client as a library. list() shows the servers this account may see; open(id)
 * resolves to an end-to-end encrypted Duplex to that server.
 */
import type { Duplex } from 'node:stream';
import { BurrowError, codeOf, ERROR_CODES } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/log.js';
import type { RelayTarget } from '../shared/peer/relay-address.js';
import type { ServerInfo } from '../shared/protocol/messages.js';
import type { Redacted } from '../shared/redacted.js';
import { ClientSession, type LiveSession } from './io/client-session.js';
import { TicketCache } from './io/ticket-cache.js';

import { listAll } from './io/list-servers.js';
import { openStream, openTunnelLink } from './io/open-stream.js';
import { Tunnel } from '../shared/tunnel/tunnel.js';
import { Semaphore } from '../shared/semaphore.js';
import type { RekeyOptions } from '../shared/tunnel/tunnel-frame-writer.js';

/** Streams of one client that may be between connect and the relay's Joined at once. */
const MAX_HANDSHAKES_IN_FLIGHT = 8;

export type { ServerInfo } from '../shared/protocol/messages.js';

export interface ClientOptions {
  /** The relay, or several relays of one cluster: each is tried in turn when one fails. */
  relay: RelayTarget | RelayTarget[];
  user: string;
  password: Redacted<string>;
  /** Server secrets by id, for open(id) without an explicit secret. */
  secrets?: Record<string, Redacted<Buffer>>;
  /** Log in again in the background, with backoff, whenever the session is lost (long-running forwarders). */
  keepAlive?: boolean;
  /** When end-to-end streams and tunnels replace their sending key (default every 10 minutes and every GiB). */
  rekey?: RekeyOptions;
  /** With keepAlive: called when the relay refuses the account on a background login (then closed). */
  onFatal?: (err: BurrowError) => void;
  /**
   * With keepAlive: a relay that cannot be reached at start (not there yet, restarting, busy) is not an
   * error; the client logs in in the background and requests wait for it. A refused account or relay key
   * still rejects at once.
   */
  startWithoutRelay?: boolean;
  /** With startWithoutRelay: told (at once, before connect resolves) when the first login failed and goes on in the background. */
  onStartWithoutRelay?: (err: BurrowError) => void;
  log?: Logger;
}

export interface BurrowClient {
  list(): Promise<ServerInfo[]>;
  /**
   * `earlyData`: resolve once the handshake is done instead of once the server's target accepted, so the
   * first bytes written go out with the handshake's last message (one round trip less); a refusal then
   * fails the stream with its code instead of failing open().
   * `via`: attach the stream at another relay of the same cluster, with a session ticket from this one.
   */
  open(serverId: string, opts?: { secret?: Redacted<Buffer>; earlyData?: boolean; via?: RelayTarget }): Promise<Duplex>;
  /**
   * Opens a tunnel to the server: one relay stream that carries many connections as channels
   * (`tunnel.openChannel(socket)`), each a frame instead of a relay connection and a handshake.
   */
  tunnel(serverId: string, opts?: { secret?: Redacted<Buffer>; via?: RelayTarget }): Promise<Tunnel>;
  /** Checks that the server is reachable and the secret right, without the skeleton opening its target. */
  probe(serverId: string, opts?: { secret?: Redacted<Buffer> }): Promise<void>;
  /** Calls `listener` when the relay says Goodbye: open nothing new on what it carries, end that once idle. */
  onGoodbye(listener: () => void): void;
  close(): void;
}

/** Logs in (rejecting with ERR_AUTH_FAILED, ERR_RELAY_KEY_MISMATCH, ...) and returns the client. */
export async function connect(options: ClientOptions): Promise<BurrowClient> {
  const log = options.log ?? silentLogger();
  const relays = Array.isArray(options.relay) ? options.relay : [options.relay];
  if (relays.length === 0) throw new BurrowError('ERR_USAGE', 'no relay address');
  const session = new ClientSession(relays, { user: options.user, password: options.password }, log, { keepAlive: options.keepAlive ?? false, ...(options.onFatal ? { onFatal: options.onFatal } : {}) });
  try {
    await session.get();
  } catch (err) {
    const code = codeOf(err);
    if (!options.keepAlive || !options.startWithoutRelay || ERROR_CODES[code].retry === 'stop') {
      session.close();
      throw err;
    }
    log.warn({ code }, 'relay not reachable at start; logging in in the background');
    session.keepTrying();
    options.onStartWithoutRelay?.(err instanceof BurrowError ? err : new BurrowError(code));
  }
  // Data connections count against the relay's cap on not-yet-authenticated connections per address
  // until their Attach is checked: a burst of opens is let through a few at a time instead.
  const handshakes = new Semaphore(MAX_HANDSHAKES_IN_FLIGHT);
  const secretFor = (serverId: string, given: Redacted<Buffer> | undefined): Buffer => {
    const secret = given ?? options.secrets?.[serverId];
    if (!secret) throw new BurrowError('ERR_USAGE', `no secret for server ${serverId}`);
    return secret.reveal();
  };
  const tickets = new TicketCache();
  // With several relays, a request that failed because its relay is gone (or cannot reach the cluster's
  // shared state: the code's `failover` in shared/errors.ts) is tried once more through the next relay.
  const withFailover = async <T>(run: (live: LiveSession) => Promise<T>): Promise<T> => {
    const live = await session.get();
    try {
      return await run(live);
    } catch (err) {
      if (!session.failed(live, err)) throw err;
      return run(await session.get());
    }
  };
  return {
    list() {
      return withFailover((live) => listAll(live.control));
    },
    open(serverId, opts = {}) {
      const mode = opts.earlyData ? 'early' : 'stream';
      if (opts.via) {
        const via = opts.via;
        return session.get().then(async (live) => openStream(via, { ...live.session, ticket: await tickets.get(live) }, serverId, secretFor(serverId, opts.secret), handshakes, mode, options.rekey));
      }
      return withFailover((live) => openStream(live.relay, live.session, serverId, secretFor(serverId, opts.secret), handshakes, mode, options.rekey));
    },
    async tunnel(serverId, opts = {}) {
      const secret = secretFor(serverId, opts.secret);
      const via = opts.via;
      const link = via
        ? await session.get().then(async (live) => openTunnelLink(via, { ...live.session, ticket: await tickets.get(live) }, serverId, secret, handshakes))
        : await withFailover((live) => openTunnelLink(live.relay, live.session, serverId, secret, handshakes));
      return new Tunnel(link, 'initiator', options.rekey ? { rekey: options.rekey } : {});
    },
    probe(serverId, opts = {}) {
      return withFailover((live) => openStream(live.relay, live.session, serverId, secretFor(serverId, opts.secret), handshakes, 'probe'));
    },
    onGoodbye(listener) {
      session.on('goodbye', listener);
    },
    close() {
      session.close();
    },
  };
}
