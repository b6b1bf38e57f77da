/** Session tickets, the adapter's half: sign them for the core's Dials and ticket requests, check them at attach. */
import { issueTicket, verifyTicket, type TicketKeys } from '../../shared/crypto/session-ticket.js';
import type { Logger } from '../../shared/log.js';
import type { ClusterCommand, ConnId, RelayEvent } from '../core/relay-events.js';
import type { UserRecord } from '../users/users-file.js';

export class TicketService {
  constructor(
    private readonly keys: TicketKeys,
    private readonly relayId: string,
    private readonly ttlSeconds: number,
    private readonly lookupUser: (name: string) => Promise<UserRecord | undefined>,
    private readonly dispatch: (event: RelayEvent) => void,
    private readonly log: Logger,
  ) {}

  verify(conn: ConnId, ticket: string): void {
    verifyTicket(this.keys, ticket, Date.now()).then(
      async (claims) => {
        // A client's rights here come from this relay's own users file.
        const record = claims.port === 'client' ? await this.lookupUser(claims.user) : undefined;
        this.dispatch({ type: 'ticket-verified', conn, claims, ...(record ? { record } : {}) });
      },
      () => this.dispatch({ type: 'ticket-verified', conn }),
    );
  }

  mint(cmd: Extract<ClusterCommand, { type: 'mint-ticket' }>): void {
    const now = Date.now();
    issueTicket(this.keys, { sid: cmd.sid, user: cmd.user, port: cmd.port, relay: this.relayId, attachKey: cmd.attachKey }, now, this.ttlSeconds).then(
      (ticket) => this.dispatch({ type: 'ticket-minted', sid: cmd.sid, purpose: cmd.purpose, ticket, exp: (Math.floor(now / 1000) + this.ttlSeconds) * 1000 }),
      (err: unknown) => this.log.error({ err }, 'ticket could not be issued'),
    );
  }
}
