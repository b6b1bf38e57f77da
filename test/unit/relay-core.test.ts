/**
 * The sans-IO relay core (relay/core/relay-core.ts) with no network and a hand-advanced clock: login
 * decisions (S2, S5), handshake timeout, name ownership (S9), no oracle (S11), the broker, attach proofs
 * (S7), sealed control (S4) and liveness.
 */
import test from 'ava';
import { attachMac } from '../../shared/crypto/attach-proof.js';
import { encodeFrame } from '../../shared/protocol/codec.js';
import type { Hello } from '../../shared/protocol/messages.js';
import type { LoginVerdict } from '../../relay/core/relay-events.js';
import { closed, framesTo, plainTo, RelayHarness, T0, userRecord, type Peer } from '../helpers/unit-relay.js';

const ALICE = userRecord(['skeleton'], { serve: ['web', 'home-*'] });
const BOB = userRecord(['skeleton'], { serve: ['*'] });
const CAROL = userRecord(['client'], { access: ['web', 'home-*'] });
const AUTH_FAILED = encodeFrame({ t: 'error', code: 'ERR_AUTH_FAILED' });

function withClaims(v: LoginVerdict, patch: Partial<NonNullable<LoginVerdict['claims']>>): LoginVerdict {
  return { ...v, claims: { ...v.claims!, ...patch } };
}

/** A skeleton (alice) serving `ids` and a client (carol) allowed web and home-*. */
function world(ids = ['web'], limits = {}): { h: RelayHarness; alice: Peer; carol: Peer } {
  const h = new RelayHarness(limits);
  const alice = h.login('alice', 'skeleton', ALICE);
  h.advertise(alice, ids);
  return { h, alice, carol: h.login('carol', 'client', CAROL) };
}

test('S2/S5: every refused login gets the same ERR_AUTH_FAILED frame, then a close', (t) => {
  const h = new RelayHarness();
  const variants: [string, (hello: Hello) => LoginVerdict, number][] = [
    ['challenge of another connection', (hello) => withClaims(h.verdict(hello, 'alice', ALICE), { challenge: Buffer.alloc(32, 9) }), 0],
    ['verdict after loginMaxAgeMs', (hello) => h.verdict(hello, 'alice', ALICE), h.limits.loginMaxAgeMs + 1],
    ['login meant for the client port', (hello) => h.verdict(hello, 'alice', ALICE, 'client'), 0],
    ['account without the skeleton role', (hello) => h.verdict(hello, 'carol', CAROL), 0],
    ['disabled account', (hello) => h.verdict(hello, 'alice', userRecord(['skeleton'], { serve: ['web'], disabled: true })), 0],
    ['wrong password', (hello) => ({ ...h.verdict(hello, 'alice', ALICE), passwordOk: false }), 0],
    ['unknown user', (hello) => h.verdict(hello, 'nobody', undefined), 0],
    ['login that did not open', () => ({ passwordOk: false }), 0],
  ];
  let n = 0;
  for (const [what, verdict, delay] of variants) {
    h.now = T0;
    // Each from its own address, so the per-source penalties (tested on their own) stay out of the way.
    h.source = `192.0.2.${++n}`;
    const { conn, hello } = h.greet('skeleton');
    h.beginLogin(conn);
    h.now += delay;
    const cmds = h.handle({ type: 'login-verified', conn, verdict: verdict(hello) });
    t.deepEqual(framesTo(conn, cmds), [AUTH_FAILED], what);
    t.deepEqual(cmds.at(-1), { type: 'close', conn, reason: 'ERR_AUTH_FAILED' }, what);
  }
  t.is(h.core.state.sessions.size, 0);
  // The same relay accepts a good verdict at the edge of loginMaxAgeMs, so the refusals above are the checks.
  h.source = '198.51.100.1';
  const { conn, hello } = h.greet('skeleton');
  h.beginLogin(conn);
  h.now += h.limits.loginMaxAgeMs;
  const cmds = h.handle({ type: 'login-verified', conn, verdict: h.verdict(hello, 'alice', ALICE) });
  t.deepEqual(plainTo(conn, cmds), [{ t: 'welcome', jwe: 'a.b.c.d.e' }]);
  t.false(closed(conn, cmds));
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});

test('a login verdict for a connection that is not verifying is ignored', (t) => {
  const h = new RelayHarness();
  const { conn, hello } = h.greet('client');
  t.deepEqual(h.handle({ type: 'login-verified', conn, verdict: h.verdict(hello, 'carol', CAROL) }), []);
  const peer = h.login('carol', 'client', CAROL);
  t.deepEqual(h.handle({ type: 'login-verified', conn: peer.conn, verdict: h.verdict(hello, 'carol', CAROL) }), []);
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});

test('handshake timeout: nothing up to handshakeTimeoutMs, then ERR_HANDSHAKE_TIMEOUT and a close', (t) => {
  const h = new RelayHarness();
  const { conn } = h.greet('client');
  h.now = T0 + h.limits.handshakeTimeoutMs;
  t.deepEqual(h.tick(), []);
  h.now += 1;
  const cmds = h.tick();
  t.deepEqual(plainTo(conn, cmds), [{ t: 'error', code: 'ERR_HANDSHAKE_TIMEOUT' }]);
  t.true(closed(conn, cmds));
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});

test('S9: ids are owned by an account; the same account takes a live id over; serve patterns bind', (t) => {
  const h = new RelayHarness();
  const carol = h.login('carol', 'client', CAROL);
  const a1 = h.login('alice', 'skeleton', ALICE);
  t.deepEqual(h.advertise(a1, ['web', 'home-nas', 'mail']), [
    { t: 'advertised', id: 1, accepted: ['web', 'home-nas'], rejected: [{ id: 'mail', code: 'ERR_SERVER_ID_NOT_ALLOWED' }] },
  ]);
  const bob = h.login('bob', 'skeleton', BOB);
  t.deepEqual(h.advertise(bob, ['web', 'mail']), [
    { t: 'advertised', id: 1, accepted: ['mail'], rejected: [{ id: 'web', code: 'ERR_SERVER_ID_TAKEN' }] },
  ]);
  const a2 = h.login('alice', 'skeleton', ALICE);
  t.deepEqual(h.advertise(a2, ['web']), [{ t: 'advertised', id: 1, accepted: ['web'], rejected: [] }]);
  // A client open of web now goes to the second session: the dial is sealed to a2's control channel.
  h.attach(carol, 'stream', { server: 'web' });
  t.deepEqual(h.take(a1), [{ t: 'withdrawn', servers: ['web'], code: 'ERR_SERVER_ID_TAKEN' }], 'the stale session is told, and gets no dial');
  t.is(h.take(a2)[0]?.t, 'dial');
  // The stale session ending does not free the id it lost.
  h.closeConn(a1.conn);
  t.deepEqual(h.list(carol), ['web']);
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});

test('S11: an unknown id and an id outside access get byte-identical ERR_UNKNOWN_SERVER answers', (t) => {
  const { h, carol } = world(['web']);
  const bob = h.login('bob', 'skeleton', BOB);
  h.advertise(bob, ['secret']);
  const missing = h.attach(carol, 'stream', { server: 'nope' });
  const hidden = h.attach(carol, 'stream', { server: 'secret' });
  const [missingFrame] = framesTo(missing.conn, missing.cmds);
  t.deepEqual(missingFrame, encodeFrame({ t: 'error', code: 'ERR_UNKNOWN_SERVER' }));
  t.deepEqual(framesTo(hidden.conn, hidden.cmds), [missingFrame]);
  t.true(closed(missing.conn, missing.cmds) && closed(hidden.conn, hidden.cmds));
  t.deepEqual(h.take(bob), [], 'the owner of the hidden id is not asked to dial');
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});

test('S10/S11: a listing shows only ids within access, and only id, description and protocol', (t) => {
  const { h, carol } = world(['web', 'home-nas']);
  h.advertise(h.login('bob', 'skeleton', BOB), ['secret', 'home']);
  h.control(carol, { t: 'list', id: 5 });
  t.deepEqual(h.take(carol), [{
    t: 'servers', id: 5, servers: [
      { id: 'home-nas', description: 'home-nas server', protocol: 'tcp' },
      { id: 'web', description: 'web server', protocol: 'tcp' },
    ],
  }]);
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});

test('broker: an idle pooled connection is bound at once: Bind, Joined, splice', (t) => {
  const { h, alice, carol } = world();
  const pooled = h.attach(alice, 'pool');
  t.deepEqual(pooled.cmds, [{ type: 'hold', conn: pooled.conn }]);
  const client = h.attach(carol, 'stream', { server: 'web' });
  t.deepEqual(client.cmds, [
    { type: 'send', conn: pooled.conn, frame: encodeFrame({ t: 'bind', server: 'web' }) },
    { type: 'send', conn: client.conn, frame: encodeFrame({ t: 'joined' }) },
    { type: 'splice', stream: 1, client: client.conn, skeleton: pooled.conn, server: 'web', user: 'carol' },
  ]);
  t.deepEqual(h.take(alice), [], 'no dial was needed');
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});

test('broker: with no idle connection the skeleton is asked to dial, and the dial-in is joined', (t) => {
  const { h, alice, carol } = world();
  const client = h.attach(carol, 'stream', { server: 'web' });
  t.deepEqual(client.cmds.map((c) => [c.type, 'conn' in c ? c.conn : -1]), [['hold', client.conn], ['send', alice.conn]]);
  const [dial] = h.take(alice);
  if (dial?.t !== 'dial') return t.fail('no dial');
  t.is(dial.server, 'web');
  const dialed = h.attach(alice, 'dial', { dial: dial.dial });
  t.deepEqual(dialed.cmds.at(-1), { type: 'splice', stream: 1, client: client.conn, skeleton: dialed.conn, server: 'web', user: 'carol' });
  t.deepEqual(plainTo(client.conn, dialed.cmds), [{ t: 'joined' }]);
  t.deepEqual(plainTo(dialed.conn, dialed.cmds), [{ t: 'bind', server: 'web' }]);
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});

test('broker: a dial not answered by dialTimeoutMs fails the client with ERR_SERVER_UNREACHABLE', (t) => {
  const { h, alice, carol } = world();
  const client = h.attach(carol, 'stream', { server: 'web' });
  h.now = T0 + h.limits.dialTimeoutMs - 1;
  t.false(closed(client.conn, h.tick()));
  h.now += 1;
  const cmds = h.tick();
  t.deepEqual(plainTo(client.conn, cmds), [{ t: 'error', code: 'ERR_SERVER_UNREACHABLE' }]);
  t.true(closed(client.conn, cmds));
  t.deepEqual(h.take(alice).map((m) => m.t), ['dial', 'ping'], 'the skeleton was asked once (and heartbeats went on)');
  t.deepEqual(h.take(carol), [{ t: 'ping', n: 1 }]);
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});

// Regression (was a bug in relay/core/relay-broker.ts openStream): only joined streams count toward maxStreamsPerSession, so a
// client can open any number of streams that wait on a dial; each one parks a connection at the relay and
// makes the skeleton dial a fresh connection. Fix: count a stream when its dial is requested (release it
// when the dial fails or the client goes), or add the session's pending dials to the check.
test('streams waiting on a dial count toward maxStreamsPerSession', (t) => {
  const { h, alice, carol } = world(['web'], { maxStreamsPerSession: 1 });
  h.attach(carol, 'stream', { server: 'web' });
  const second = h.attach(carol, 'stream', { server: 'web' });
  t.deepEqual(plainTo(second.conn, second.cmds), [{ t: 'error', code: 'ERR_LIMIT' }]);
  t.is(h.take(alice).length, 1, 'one dial only');
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});

test('S7: a wrong attach proof, or one made for another connection, is ERR_AUTH_FAILED', (t) => {
  const { h, carol } = world();
  const other = h.greet('client');
  const claim = { sid: carol.sid, purpose: 'stream' as const, server: 'web' };
  const wrongKey = h.greet('client');
  const forOther = h.greet('client');
  const attempts = [
    { conn: wrongKey.conn, mac: attachMac(Buffer.alloc(32), wrongKey.hello.challenge, claim) },
    { conn: forOther.conn, mac: attachMac(carol.keys.attach, other.hello.challenge, claim) },
  ];
  for (const { conn, mac } of attempts) {
    const cmds = h.sendPlain(conn, { t: 'attach', ...claim, mac });
    t.deepEqual(framesTo(conn, cmds), [AUTH_FAILED]);
    t.true(closed(conn, cmds));
  }
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});

test('S4: a replayed sealed control frame closes the control connection', (t) => {
  const { h, carol } = world();
  const body = h.sealed(carol, { t: 'list', id: 1 });
  t.false(closed(carol.conn, h.handle({ type: 'frame', conn: carol.conn, body })));
  t.is(h.take(carol)[0]?.t, 'servers');
  t.true(closed(carol.conn, h.handle({ type: 'frame', conn: carol.conn, body })));
  t.deepEqual(h.take(carol), [{ t: 'error', code: 'ERR_PROTOCOL' }], 'no second answer to the replayed list');
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});

test('heartbeat: a sealed ping every pingMs; a peer that answers stays alive', (t) => {
  const { h, alice, carol } = world();
  h.now = T0 + h.limits.pingMs;
  h.tick();
  t.deepEqual(h.take(carol), [{ t: 'ping', n: 1 }]);
  h.now += 1;
  h.tick();
  t.deepEqual(h.take(carol), []);
  h.control(carol, { t: 'pong', n: 1 });
  h.now = T0 + h.limits.deadMs + 1;
  t.false(closed(carol.conn, h.tick()), 'heard from within deadMs');
  t.deepEqual(h.take(carol), [{ t: 'ping', n: 2 }]);
  t.deepEqual(h.take(alice), [{ t: 'ping', n: 1 }], 'the skeleton, which never answered, had one ping before it was found dead');
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});

// Regression (was a bug in relay/core/relay-session.ts: `lastPing = 0`): the first tick after a login always pings, however
// soon it comes, because lastPing starts at the epoch rather than at the login time. Fix: `lastPing = init.now`.
test('heartbeat: no ping before pingMs has passed since login', (t) => {
  const { h, carol } = world();
  h.now = T0 + 1;
  h.tick();
  t.deepEqual(h.take(carol), []);
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});

/** alice serves web and goes silent; carol logs in later and waits on a dial to web. */
function silentSkeleton(): { h: RelayHarness; alice: Peer; carol: Peer; waiting: number } {
  const h = new RelayHarness({ dialTimeoutMs: 120_000 });
  const alice = h.login('alice', 'skeleton', ALICE);
  h.advertise(alice, ['web']);
  h.now = T0 + 20_000;
  const carol = h.login('carol', 'client', CAROL);
  const waiting = h.attach(carol, 'stream', { server: 'web' }).conn;
  h.now = T0 + h.limits.deadMs + 1;
  return { h, alice, carol, waiting };
}

test('liveness: a control channel silent for deadMs is closed; the socket closing later changes nothing more', (t) => {
  const { h, alice, carol } = silentSkeleton();
  const cmds = h.tick();
  t.true(cmds.some((c) => c.type === 'close' && c.conn === alice.conn && c.reason === 'ERR_TIMEOUT'));
  t.false(closed(carol.conn, cmds), 'the client was heard from');
  t.deepEqual(h.closeConn(alice.conn), []);
  t.deepEqual(h.list(carol), []);
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});

// Was a bug (relay/core/relay-core.ts #tick): a dead session was only sent a 'close'; its ids stayed
// registered and its waiting clients kept waiting until the adapter reported 'closed'. The brief says
// "close it, free its names, fail its pending dials". Fix: call #endSession(session) in the tick too.
test('liveness: the tick that finds a control channel dead frees its ids and fails its dials at once', (t) => {
  const { h, alice, carol, waiting } = silentSkeleton();
  const cmds = h.tick();
  t.deepEqual(plainTo(waiting, cmds), [{ t: 'error', code: 'ERR_SERVER_UNREACHABLE' }]);
  t.deepEqual(h.list(carol), []);
  t.like(h.take(alice), [{ t: 'dial', server: 'web' }], 'the dial the dead skeleton never answered');
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});

test('closing a skeleton control connection frees its ids at once for another account', (t) => {
  const { h, alice, carol } = world(['web']);
  const pooled = h.attach(alice, 'pool').conn;
  const bob = h.login('bob', 'skeleton', BOB);
  t.deepEqual(h.advertise(bob, ['web']), [{ t: 'advertised', id: 1, accepted: [], rejected: [{ id: 'web', code: 'ERR_SERVER_ID_TAKEN' }] }]);
  const cmds = h.closeConn(alice.conn);
  t.true(closed(pooled, cmds), 'its pooled data connections are closed');
  t.deepEqual(h.advertise(bob, ['web']), [{ t: 'advertised', id: 1, accepted: ['web'], rejected: [] }]);
  h.attach(carol, 'stream', { server: 'web' });
  t.is(h.take(bob)[0]?.t, 'dial', 'web is now routed to bob');
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});
