/**
 * connect(options): the client as a library. list() shows the servers this account may see; open(id)
 * resolves to an end-to-end encrypted Duplex to that server.
 */
import type { Duplex } from 'node:stream';
import { BurrowError } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/log.js';
import type { RelayTarget } from '../shared/peer/relay-address.js';
import type { ServerInfo } from '../shared/protocol/messages.js';
import type { Redacted } from '../shared/redacted.js';
import { ClientSession } from './io/client-session.js';
import { openStream } from './io/open-stream.js';
import { Semaphore } from '../shared/semaphore.js';

/** Streams of one client that may be between connect and the relay's Joined at once. */
const MAX_HANDSHAKES_IN_FLIGHT = 8;

export type { ServerInfo } from '../shared/protocol/messages.js';

export interface ClientOptions {
  relay: RelayTarget;
  user: string;
  password: Redacted<string>;
  /** Server secrets by id, for open(id) without an explicit secret. */
  secrets?: Record<string, Redacted<Buffer>>;
  /** Log in again in the background, with backoff, whenever the session is lost (long-running forwarders). */
  keepAlive?: boolean;
  /** With keepAlive: called when the relay refuses the account on a background login (then closed). */
  onFatal?: (err: BurrowError) => void;
  log?: Logger;
}

export interface BurrowClient {
  list(): Promise<ServerInfo[]>;
  /**
   * `earlyData`: resolve once the handshake is done instead of once the server's target accepted, so the
   * first bytes written go out with the handshake's last message (one round trip less); a refusal then
   * fails the stream with its code instead of failing open().
   */
  open(serverId: string, opts?: { secret?: Redacted<Buffer>; earlyData?: boolean }): Promise<Duplex>;
  /** Checks that the server is reachable and the secret right, without the skeleton opening its target. */
  probe(serverId: string, opts?: { secret?: Redacted<Buffer> }): Promise<void>;
  close(): void;
}

/** Logs in (rejecting with ERR_AUTH_FAILED, ERR_RELAY_KEY_MISMATCH, ...) and returns the client. */
export async function connect(options: ClientOptions): Promise<BurrowClient> {
  const log = options.log ?? silentLogger();
  const session = new ClientSession(options.relay, { user: options.user, password: options.password }, log, { keepAlive: options.keepAlive ?? false, ...(options.onFatal ? { onFatal: options.onFatal } : {}) });
  await session.get();
  // Data connections count against the relay's cap on not-yet-authenticated connections per address
  // until their Attach is checked: a burst of opens is let through a few at a time instead.
  const handshakes = new Semaphore(MAX_HANDSHAKES_IN_FLIGHT);
  const secretFor = (serverId: string, given: Redacted<Buffer> | undefined): Buffer => {
    const secret = given ?? options.secrets?.[serverId];
    if (!secret) throw new BurrowError('ERR_USAGE', `no secret for server ${serverId}`);
    return secret.reveal();
  };
  return {
    async list() {
      const { control } = await session.get();
      const reply = await control.request((id) => ({ t: 'list', id }));
      if (reply.t !== 'servers') throw new BurrowError('ERR_PROTOCOL', `expected servers, got ${reply.t}`);
      return reply.servers;
    },
    async open(serverId, opts = {}) {
      const live = await session.get();
      return openStream(options.relay, live.session, serverId, secretFor(serverId, opts.secret), handshakes, opts.earlyData ? 'early' : 'stream');
    },
    async probe(serverId, opts = {}) {
      const live = await session.get();
      return openStream(options.relay, live.session, serverId, secretFor(serverId, opts.secret), handshakes, 'probe');
    },
    close() {
      session.close();
    },
  };
}
