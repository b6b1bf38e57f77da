/**
 * Issue 13, finding 7 (every size a peer can drive, in a cluster): a client that attaches streams at its
 * own relay both with its session and with a cluster ticket for that session. Both kinds count against
 * the one session, so --max-streams-per-session holds, and the counts go back to zero when they end.
 */
import test, { type ExecutionContext } from 'ava';
import type { RelayTarget } from '../../shared/peer/relay-address.js';
import { decodeBody } from '../../shared/protocol/codec.js';
import { parseRelayHandshake } from '../../shared/protocol/parse.js';
import { clusterSkeleton, startClusterWorld } from '../helpers/cluster-world.js';
import { HandControl } from '../helpers/security-control.js';
import type { RawPeer } from '../helpers/security-net.js';
import { attachFrom, loginFrom, type LoginOutcome } from '../helpers/security-peer.js';
import { stateReaches } from '../helpers/state-wait.js';
import { echoServer, newSecret, PASSWORD, server } from '../helpers/world.js';

/** Alice logged in by hand at `target`, with a session ticket asked for on her control channel. */
async function ticketedClient(t: ExecutionContext, target: RelayTarget): Promise<{ cli: Extract<LoginOutcome, { ok: true }>; ticket: { ticket: string } }> {
  const cli = await loginFrom(t, { target, port: 'client', user: 'alice', password: PASSWORD });
  if (!cli.ok) throw new Error(cli.code);
  const control = new HandControl(cli.session.keys, cli.peer.reader);
  control.send(control.seal({ t: 'ticket-request', id: 1 }));
  const reply = await control.next();
  if (reply?.t !== 'ticket') throw new Error(`no ticket: ${JSON.stringify(reply)}`);
  return { cli, ticket: reply };
}

/** What the relay answered a stream attach: 'joined', an error code, or 'closed'. */
async function answer(peer: RawPeer): Promise<string> {
  const body = await peer.next();
  const msg = body ? parseRelayHandshake(decodeBody(body)) : undefined;
  return msg?.t === 'error' ? msg.code : (msg?.t ?? 'closed');
}

test('Finding 7: streams attached with a ticket at the client\'s own relay count against its session: 2 of 4 refused with --max-streams-per-session 2, none left counted after, and the ticket dies with its session', async (t) => {
  const w = await startClusterWorld(t, 1, { relay: { limits: { maxStreamsPerSession: 2 } } });
  const relay = w.relays[0]!;
  const echo = await echoServer(t);
  await clusterSkeleton(t, w.relays, [server('svc', echo.port, newSecret())], { pool: 4 });
  const { cli, ticket: reply } = await ticketedClient(t, relay.clientTarget);
  const plain = [await attachFrom(t, relay.clientTarget, 'client', cli.session, { purpose: 'stream', server: 'svc' })];
  plain.push(await attachFrom(t, relay.clientTarget, 'client', cli.session, { purpose: 'stream', server: 'svc' }));
  t.deepEqual(await Promise.all(plain.map(answer)), ['joined', 'joined']);
  const ticketed = await Promise.all([1, 2].map(() => attachFrom(t, relay.clientTarget, 'client', cli.session, { purpose: 'stream', server: 'svc', ticket: reply.ticket })));
  t.deepEqual(await Promise.all(ticketed.map(answer)), ['ERR_LIMIT', 'ERR_LIMIT'], 'the limit holds for ticket streams too');
  const state = relay.relay.runtime.core.state;
  t.is(state.sessions.get(cli.session.sid)?.streams, 2);
  t.is(state.guests.size, 0, 'no guest record for a session of this relay');
  for (const p of plain) p.socket.destroy();
  t.true(await stateReaches(() => state.sessions.get(cli.session.sid)?.streams === 0), 'the count goes back to zero');
  // Once the session has ended, its ticket opens nothing at the relay that issued it.
  const ended = new Promise<void>((resolve) => relay.relay.runtime.on('note', (n: { kind: string; session?: string }) => {
    if (n.kind === 'session-ended' && n.session === cli.session.sid) resolve();
  }));
  cli.peer.socket.destroy();
  await ended;
  const late = await attachFrom(t, relay.clientTarget, 'client', cli.session, { purpose: 'stream', server: 'svc', ticket: reply.ticket });
  t.is(await answer(late), 'ERR_SESSION_ENDED');
});

test('M4: a ticket opens nothing at another relay of the cluster once its session has ended at the relay that issued it', async (t) => {
  const w = await startClusterWorld(t, 2);
  const [a, b] = [w.relays[0]!, w.relays[1]!];
  const echo = await echoServer(t);
  await clusterSkeleton(t, w.relays, [server('svc', echo.port, newSecret())], { pool: 2 });
  const { cli, ticket: reply } = await ticketedClient(t, a.clientTarget);
  const live = await attachFrom(t, b.clientTarget, 'client', cli.session, { purpose: 'stream', server: 'svc', ticket: reply.ticket });
  t.is(await answer(live), 'joined', 'while its session lives, the ticket works at relay B');
  cli.peer.socket.destroy();
  t.true(await stateReaches(() => b.relay.runtime.core.state.endedSessions.has(cli.session.sid)), 'relay B heard that the session ended');
  const late = await attachFrom(t, b.clientTarget, 'client', cli.session, { purpose: 'stream', server: 'svc', ticket: reply.ticket });
  t.is(await answer(late), 'ERR_SESSION_ENDED');
});
