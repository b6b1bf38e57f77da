/**
 * S7 across a cluster: a ticket alone does not attach. The relay still wants an HMAC over its own fresh
 * challenge under the attach key sealed in the ticket, and only for a dial it is waiting on.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { issueTicket, TicketKeys } from '../../shared/crypto/session-ticket.js';
import type { SessionKeys } from '../../shared/crypto/session-keys.js';
import { decodeBody } from '../../shared/protocol/codec.js';
import { parseRelayHandshake } from '../../shared/protocol/parse.js';
import { attachData } from '../../shared/peer/data-connection.js';
import { Redacted } from '../../shared/redacted.js';
import { startClusterWorld } from '../helpers/cluster-world.js';

async function attachWithTicket(target: Parameters<typeof attachData>[0], ticket: string, macKey: Buffer): Promise<string> {
  const keys = { attach: macKey } as SessionKeys;
  const { socket, channel } = await attachData(target, 'skeleton', { sid: 'sid-1', keys }, { purpose: 'dial', dial: 'dial-1', ticket });
  try {
    const reply = parseRelayHandshake(decodeBody(await channel.next(5000)));
    return reply.t === 'error' ? reply.code : reply.t;
  } finally {
    socket.destroy();
  }
}

test('S7: a cluster ticket attaches only with the MAC of its sealed attach key, and only for a pending dial', async (t) => {
  const w = await startClusterWorld(t, 1);
  const relay = w.relays[0]!;
  const tickets = new TicketKeys(w.identity.privateKey, w.identity.publicKey);
  const attachKey = randomBytes(32);
  const ticket = await issueTicket(tickets, { sid: 'sid-1', user: 'home', port: 'skeleton', relay: 'r9', attachKey: new Redacted(attachKey) }, Date.now(), 60);
  t.is(await attachWithTicket(relay.skeletonTarget, ticket, randomBytes(32)), 'ERR_AUTH_FAILED');
  // The right key proves the session, but no dial waits for it here: nothing to join.
  t.is(await attachWithTicket(relay.skeletonTarget, ticket, attachKey), 'ERR_PROTOCOL');
  // A ticket signed by another identity is refused whatever the MAC.
  const { generateKeyPairSync } = await import('node:crypto');
  const other = generateKeyPairSync('ed25519');
  const foreign = await issueTicket(new TicketKeys(other.privateKey, other.publicKey), { sid: 'sid-1', user: 'home', port: 'skeleton', relay: 'r9', attachKey: new Redacted(attachKey) }, Date.now(), 60);
  t.is(await attachWithTicket(relay.skeletonTarget, foreign, attachKey), 'ERR_AUTH_FAILED');
});
