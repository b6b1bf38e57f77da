/** One logged-in peer: its keys, control channel and (for skeletons) its idle data connections. */
import { ControlOpener, ControlSealer } from '../../shared/crypto/control-cipher.js';
import { deriveSessionKeys, type SessionKeys } from '../../shared/crypto/session-keys.js';
import type { PortRole, Publication } from '../../shared/protocol/messages.js';
import type { UserRecord } from '../users/users-file.js';
import type { ConnId } from './relay-events.js';

export class RelaySession {
  readonly sid: string;
  readonly user: string;
  /** The account as last loaded; replaced when the users file changes. */
  record: UserRecord;
  readonly port: PortRole;
  readonly control: ConnId;
  readonly keys: SessionKeys;
  readonly sealer: ControlSealer;
  readonly opener: ControlOpener;
  readonly started: number;
  /** Idle skeleton data connections, oldest first. */
  readonly pool: ConnId[] = [];
  /** Servers this session has advertised and still holds. */
  readonly servers = new Set<string>();
  lastHeard: number;
  lastPing: number;
  pingSeq = 0;
  streams = 0;
  /** The publications its last Advertise asked for (granted or not): a grant added later makes them live. */
  publishWanted: Publication[] = [];
  /** Requests of this session waiting for the cluster's shared state (listings, advertise claims). */
  clusterRequests = 0;

  constructor(init: {
    sid: string; user: string; record: UserRecord; port: PortRole; control: ConnId; sessionKey: Buffer; now: number;
  }) {
    this.sid = init.sid;
    this.user = init.user;
    this.record = init.record;
    this.port = init.port;
    this.control = init.control;
    this.keys = deriveSessionKeys(init.sessionKey, init.sid);
    this.sealer = new ControlSealer(this.keys.relayToPeer);
    this.opener = new ControlOpener(this.keys.peerToRelay);
    this.started = init.now;
    this.lastHeard = init.now;
    this.lastPing = init.now;
  }
}
