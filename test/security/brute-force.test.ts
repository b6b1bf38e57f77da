/**
 * S6: brute force is throttled per source (growing penalties) and per user name, without locking the
 * real user out from elsewhere: real sockets from different loopback addresses against a real relay,
 * and the sans-IO core with a hand clock where time matters. Also the cap on unauthenticated
 * connections per source.
 */
import test, { type ExecutionContext } from 'ava';
import { encodeFrame } from '../../shared/protocol/codec.js';
import type { RelayCommand } from '../../relay/core/relay-events.js';
import { DEFAULT_GUARD_LIMITS } from '../../relay/core/source-guard.js';
import type { ErrorCode } from '../../shared/errors.js';
import { decodeBody } from '../../shared/protocol/codec.js';
import { parseRelayHandshake } from '../../shared/protocol/parse.js';
import { RawPeer } from '../helpers/security-net.js';
import { countVerifications, loginFrom, outcomeCode } from '../helpers/security-peer.js';
import { closed, framesTo, plainTo, RelayHarness, userRecord } from '../helpers/unit-relay.js';
import { sendAndCollect } from '../helpers/streams.js';
import { connectTestClient, echoServer, newSecret, PASSWORD, server, startTestSkeleton, startWorld, type World } from '../helpers/world.js';

const THROTTLED = encodeFrame({ t: 'error', code: 'ERR_THROTTLED' });
const ALICE = userRecord(['client'], { access: ['*'] });

async function attempt(t: ExecutionContext, world: World, password: string, localAddress = '127.0.0.1'): Promise<ErrorCode | 'ok'> {
  const outcome = await loginFrom(t, { target: world.clientTarget, port: 'client', user: 'alice', password, localAddress });
  outcome.peer.socket.destroy();
  return outcomeCode(outcome);
}

function tally(codes: (ErrorCode | 'ok')[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of codes) counts[c] = (counts[c] ?? 0) + 1;
  return counts;
}

test('S6: 50 wrong passwords from one address: all but a few are ERR_THROTTLED without argon2, and the right password still works from another address', async (t) => {
  const world = await startWorld(t);
  const verifications = countVerifications(world.relay);
  const codes: (ErrorCode | 'ok')[] = [];
  for (let i = 0; i < 50; i++) codes.push(await attempt(t, world, `guess-${i}`));
  const counts = tally(codes);
  t.deepEqual(Object.keys(counts).sort(), ['ERR_AUTH_FAILED', 'ERR_THROTTLED']);
  t.true(counts.ERR_AUTH_FAILED! < 10, `ERR_AUTH_FAILED ${counts.ERR_AUTH_FAILED}`);
  t.true(counts.ERR_THROTTLED! > 40, `ERR_THROTTLED ${counts.ERR_THROTTLED}`);
  t.is(verifications(), counts.ERR_AUTH_FAILED!, 'a throttled attempt costs no argon2 verification');
  // The right password from the throttled address is refused too: guessing right there is useless ...
  t.is(await attempt(t, world, PASSWORD), 'ERR_THROTTLED');
  // ... while from elsewhere the real user gets in.
  t.is(await attempt(t, world, PASSWORD, '127.0.0.2'), 'ok');
});

test('S6: a parallel burst of 50 wrong passwords from one address starts at most maxUnauthPerSource + 3 argon2 verifications', async (t) => {
  const world = await startWorld(t);
  const verifications = countVerifications(world.relay);
  const codes = await Promise.all(Array.from({ length: 50 }, (_, i) => attempt(t, world, `burst-${i}`, '127.0.0.3')));
  const counts = tally(codes);
  t.log(`${verifications()} verifications; answers ${JSON.stringify(counts)}`);
  t.is(counts.ok, undefined);
  // Connections beyond the cap are refused at once (ERR_LIMIT), later ones once the penalty has built up (ERR_THROTTLED).
  t.true(verifications() <= DEFAULT_GUARD_LIMITS.maxUnauthPerSource + 3, `${verifications()} verifications: ${JSON.stringify(counts)}`);
  // Each ERR_AUTH_FAILED cost one verification; the rest were refused at connect, by the cap or by the
  // source's penalty. One address counts only a few failures toward the name, so the name is not throttled.
  t.is(verifications(), counts.ERR_AUTH_FAILED ?? 0);
  t.is(await attempt(t, world, PASSWORD, '127.0.0.4'), 'ok');
});

test('S6: past the unauthenticated-connection cap, a source\'s next connection gets ERR_LIMIT instead of a Hello', async (t) => {
  const world = await startWorld(t, { relay: { guard: { maxUnauthPerSource: 4 } } });
  const firsts: string[] = [];
  const peers: RawPeer[] = [];
  for (let i = 0; i < 5; i++) {
    const peer = await RawPeer.open(t, world.clientTarget.port, '127.0.0.5');
    peers.push(peer);
    const msg = parseRelayHandshake(decodeBody((await peer.next())!));
    firsts.push(msg.t === 'error' ? msg.code : msg.t);
  }
  t.deepEqual(firsts, ['hello', 'hello', 'hello', 'hello', 'ERR_LIMIT']);
  t.is(await peers[4]!.next(), undefined, 'and is closed');
  // Another source is not affected by this one's cap.
  const other = await RawPeer.open(t, world.clientTarget.port, '127.0.0.6');
  t.is(parseRelayHandshake(decodeBody((await other.next())!)).t, 'hello');
});

/** One failed login (wrong password verdict) from the harness's current source. */
function fail(h: RelayHarness, user = 'alice'): { conn: number; cmds: RelayCommand[] } {
  const { conn, hello } = h.greet('client');
  h.beginLogin(conn);
  const cmds = h.handle({ type: 'login-verified', conn, verdict: { ...h.verdict(hello, user, ALICE), passwordOk: false } });
  h.closeConn(conn);
  return { conn, cmds };
}

/** Connection ids for tryLogin, far from the harness's own. */
let nextConn = 1_000_000;

/** A login with a right-password verdict from the current source; the frames it got back. */
function tryLogin(h: RelayHarness, user = 'alice'): { first: string; cmds: RelayCommand[]; conn: number } {
  const conn = nextConn++;
  const opened = h.handle({ type: 'opened', conn, port: 'client', source: h.source });
  const [hello] = plainTo(conn, opened);
  if (hello?.t !== 'hello') return { first: hello?.t === 'error' ? hello.code : 'nothing', cmds: opened, conn };
  const verify = h.sendPlain(conn, { t: 'login', jwe: 'a.b.c.d.e' });
  // A source that has logged in before is greeted while penalised; its login is refused without work.
  const [refusal] = plainTo(conn, verify);
  if (refusal?.t === 'error') return { first: refusal.code, cmds: verify, conn };
  if (!verify.some((c) => c.type === 'verify-login')) throw new Error('no verify-login');
  const cmds = h.handle({ type: 'login-verified', conn, verdict: h.verdict(hello, user, ALICE) });
  const [answer] = plainTo(conn, cmds);
  return { first: answer?.t === 'error' ? answer.code : answer?.t ?? 'nothing', cmds, conn };
}

test('S6: 20 failures for one name from many sources throttle that name for new sources, not from a source it logged in from before, and not after userWindowMs', async (t) => {
  const h = new RelayHarness();
  const limits = DEFAULT_GUARD_LIMITS;
  h.source = '203.0.113.77';
  t.is(tryLogin(h).first, 'welcome', 'alice logs in from her usual place');
  for (let i = 0; i < limits.userMaxFailures; i++) {
    h.source = `198.51.100.${i + 1}`;
    fail(h);
  }
  h.source = '198.51.100.200';
  const right = tryLogin(h);
  t.is(right.first, 'ERR_THROTTLED', 'even the right password, from a new source');
  t.deepEqual(framesTo(right.conn, right.cmds), [THROTTLED]);
  t.true(closed(right.conn, right.cmds));
  h.source = '198.51.100.201';
  const wrong = fail(h);
  t.deepEqual(framesTo(wrong.conn, wrong.cmds), [THROTTLED], 'a wrong password gets the same answer: no oracle');
  h.source = '198.51.100.202';
  t.is(tryLogin(h, 'bob').first, 'welcome', 'other names are not affected');
  h.source = '203.0.113.77';
  t.is(tryLogin(h).first, 'welcome', 'the real user is not locked out from where she logged in before');
  h.now += limits.userWindowMs;
  h.source = '198.51.100.203';
  t.is(tryLogin(h).first, 'welcome', 'the throttle lifts after userWindowMs');
});

test('S6: per-source penalties: 3 failures refuse the source with ERR_THROTTLED (at connect, or at its next login once it has logged in before) until the penalty has run out; a repeat offender waits longer', async (t) => {
  const h = new RelayHarness();
  const limits = DEFAULT_GUARD_LIMITS;
  h.source = '192.0.2.66';
  const failures = Math.ceil(limits.penaltyMinMs / limits.penaltyAuthFailMs);
  t.is(failures, 3);
  for (let i = 0; i < failures - 1; i++) fail(h);
  t.is(tryLogin(h).first, 'welcome', 'below the minimum penalty the source is still admitted');
  fail(h);
  const lastFailure = h.now;
  let refused = tryLogin(h);
  t.is(refused.first, 'ERR_THROTTLED');
  t.deepEqual(framesTo(refused.conn, refused.cmds), [THROTTLED]);
  t.false(refused.cmds.some((c) => c.type === 'verify-login'), 'refused before any login work');
  h.source = '192.0.2.67';
  t.is(tryLogin(h).first, 'welcome', 'another source is not affected');
  h.source = '192.0.2.66';
  const firstPenalty = failures * limits.penaltyAuthFailMs;
  h.now = lastFailure + firstPenalty - 1;
  t.is(tryLogin(h).first, 'ERR_THROTTLED');
  h.now = lastFailure + firstPenalty;
  t.is(tryLogin(h).first, 'welcome', 'admitted once the penalty has run out');
  // One more failure soon after: the penalty carries over and grows.
  fail(h);
  const repeat = h.now;
  const secondPenalty = firstPenalty + limits.penaltyAuthFailMs;
  h.now = repeat + firstPenalty;
  refused = tryLogin(h);
  t.is(refused.first, 'ERR_THROTTLED', 'still refused when the first refusal would have ended');
  h.now = repeat + secondPenalty;
  t.is(tryLogin(h).first, 'welcome');
});

test('S6: wrong passwords from an address do not cut the new streams of a session already logged in from it (a NAT): its attaches still join, new logins wait out the penalty', async (t) => {
  const world = await startWorld(t);
  const echo = await echoServer(t);
  const secret = newSecret();
  await startTestSkeleton(t, world, [server('svc', echo.port, secret)]);
  const client = await connectTestClient(t, world);
  // Someone else behind the same address gets their password wrong, enough to have it penalised.
  for (let i = 0; i < 4; i++) t.not(await attempt(t, world, `wrong-${i}`), 'ok');
  t.true(world.relay.runtime.core.state.guard.throttled('127.0.0.1', Date.now()));
  // The session logged in before keeps opening streams (each a new data connection from 127.0.0.1).
  for (let i = 0; i < 3; i++) t.is((await sendAndCollect(await client.open('svc', { secret }), Buffer.from(`still here ${i}`))).toString(), `still here ${i}`);
  // A new login from there is refused without a password check until the penalty has run out.
  t.is(await attempt(t, world, PASSWORD), 'ERR_THROTTLED');
});
