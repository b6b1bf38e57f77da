/**
 * What the relay core notes for metrics and the admin API (relay/core/relay-events.ts RelayNote), its
 * snapshot and the operator's disconnect, with no network and a hand-advanced clock.
 */
import test from 'ava';
import { decodeBody, encodeFrame } from '../../shared/protocol/codec.js';
import { parseRelayControl } from '../../shared/protocol/parse.js';
import type { Hello } from '../../shared/protocol/messages.js';
import type { LoginVerdict } from '../../relay/core/relay-events.js';
import { relaySnapshot } from '../../relay/core/relay-snapshot.js';
import { closed, framesTo, RelayHarness, T0, userRecord } from '../helpers/unit-relay.js';

const HOME = userRecord(['skeleton'], { serve: ['web'] });
const CAROL = userRecord(['client'], { access: ['web'] });
const AUTH_FAILED = encodeFrame({ t: 'error', code: 'ERR_AUTH_FAILED' });

test('every refused login is noted with its reason while the wire answer stays the same', (t) => {
  const h = new RelayHarness();
  const variants: [string, (hello: Hello) => LoginVerdict, string][] = [
    ['unknown user', (hello) => ({ ...h.verdict(hello, 'nobody', undefined), passwordOk: false }), 'unknown-user'],
    ['wrong password', (hello) => ({ ...h.verdict(hello, 'home', HOME), passwordOk: false }), 'bad-password'],
    ['disabled account', (hello) => h.verdict(hello, 'home', userRecord(['skeleton'], { disabled: true })), 'disabled'],
    ['account without the role', (hello) => h.verdict(hello, 'carol', CAROL), 'wrong-role'],
    ['login that did not open', () => ({ passwordOk: false }), 'bad-login'],
  ];
  let n = 0;
  for (const [what, verdict, reason] of variants) {
    h.source = `192.0.2.${++n}`;
    const { conn, hello } = h.greet('skeleton');
    h.beginLogin(conn);
    t.deepEqual(framesTo(conn, h.handle({ type: 'login-verified', conn, verdict: verdict(hello) })), [AUTH_FAILED], what);
    t.like(h.notes.at(-1), { kind: 'login', ok: false, port: 'skeleton', reason, at: T0 }, what);
  }
  t.is(h.notes.filter((x) => x.kind === 'login' && x.ok === false && x.user === undefined).length, 1, 'only the unopened login has no name');
  h.login('home', 'skeleton', HOME);
  t.like(h.notes.at(-1), { kind: 'login', ok: true, user: 'home', port: 'skeleton' });
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});

test('a join is noted with the time the client waited; the snapshot shows sessions, servers and the stream without addresses', (t) => {
  const h = new RelayHarness();
  const home = h.login('home', 'skeleton', HOME);
  h.advertise(home, ['web']);
  const carol = h.login('carol', 'client', CAROL);
  h.now += 1000;
  const open = h.attach(carol, 'stream', { server: 'web' });
  const dial = h.take(home).find((m) => m.t === 'dial');
  t.truthy(dial);
  h.now += 250;
  h.attach(home, 'dial', { dial: dial?.t === 'dial' ? dial.dial : '' });
  t.like(h.notes.at(-1), { kind: 'joined', server: 'web', waitedMs: 250 });
  t.false(closed(open.conn, open.cmds));

  const snap = relaySnapshot(h.core.state, h.now);
  t.deepEqual(snap.servers.map((s) => [s.id, s.account]), [['web', 'home']]);
  t.deepEqual(snap.sessions.map((s) => [s.account, s.role, s.streams]).sort(), [['carol', 'client', 1], ['home', 'skeleton', 1]]);
  t.like(snap.streams[0], { server: 'web', clientAccount: 'carol', skeletonAccount: 'home', since: T0 + 1250 });
  t.false(JSON.stringify(snap).includes('192.0.2.'));
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});

test('disconnect says Goodbye, closes the control channel, frees the ids and notes the end; an unknown id is not found', (t) => {
  const h = new RelayHarness();
  const home = h.login('home', 'skeleton', HOME);
  h.advertise(home, ['web']);
  t.deepEqual(h.core.disconnect('no-such-session', 1, h.now), { found: false, commands: [] });
  const { found, commands } = h.core.disconnect(home.sid, 3, h.now);
  t.true(found);
  t.true(closed(home.conn, commands));
  const sealed = framesTo(home.conn, commands);
  t.is(sealed.length, 1);
  t.deepEqual(parseRelayControl(decodeBody(home.opener.open(sealed[0]!.subarray(4)))), { t: 'goodbye', retryAfter: 3 });
  t.true(h.core.state.registry.get('web') === undefined);
  t.like(h.notes.at(-1), { kind: 'session-ended', session: home.sid, user: 'home', port: 'skeleton' });
  t.is(h.core.state.sessions.size, 0);
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});
