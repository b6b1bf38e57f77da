/**
 * S2: a recorded login replayed on a fresh connection is refused, and a login is good once and briefly.
 * S7: a recorded attach proof is bound to its connection and claim. S4: on a logged-in control channel,
 * a replayed, reordered, dropped or altered sealed frame ends the session, in both directions.
 */
import test, { type ExecutionContext } from 'ava';
import { once } from 'node:events';
import { connect } from '../../client/index.js';
import { ControlChannel } from '../../shared/peer/control-channel.js';
import { login } from '../../shared/peer/peer-login.js';
import { decodeBody, encodeFrame, frame, FrameDecoder } from '../../shared/protocol/codec.js';
import { parseRelayHandshake } from '../../shared/protocol/parse.js';
import { Redacted } from '../../shared/redacted.js';
import { HandControl } from '../helpers/security-control.js';
import { LogWatch } from '../helpers/security-log.js';
import { RawPeer, recordingForwarder, type DownTamper } from '../helpers/security-net.js';
import { countVerifications } from '../helpers/security-peer.js';
import { sendAndCollect } from '../helpers/streams.js';
import { closed, plainTo, RelayHarness, userRecord } from '../helpers/unit-relay.js';
import { echoServer, newSecret, PASSWORD, server, startTestSkeleton, startWorld, type World } from '../helpers/world.js';

const AUTH_FAILED = encodeFrame({ t: 'error', code: 'ERR_AUTH_FAILED' }).subarray(4).toString('hex');

async function watchedWorld(t: ExecutionContext): Promise<{ world: World; watch: LogWatch }> {
  const watch = new LogWatch();
  return { world: await startWorld(t, { log: watch.log }), watch };
}

test('S2: a login recorded on the wire and replayed on a new connection gets ERR_AUTH_FAILED and a close', async (t) => {
  const { world } = await watchedWorld(t);
  const fwd = await recordingForwarder(t, world.clientTarget.port);
  const client = await connect({ relay: { ...world.clientTarget, port: fwd.port }, user: 'alice', password: new Redacted(PASSWORD) });
  t.teardown(() => client.close());
  t.is(world.relay.runtime.core.state.sessions.size, 1, 'the recorded login worked');
  const [recorded] = fwd.captures;
  const [loginBody] = new FrameDecoder(1 << 20).push(Buffer.concat(recorded!.up));
  const [originalHello] = new FrameDecoder(1 << 20).push(Buffer.concat(recorded!.down));
  const loginFrame = frame(loginBody!);
  t.is((decodeBody(loginBody!) as { t: string }).t, 'login');

  for (const port of [world.clientTarget.port, world.skeletonTarget.port]) {
    const peer = await RawPeer.open(t, port);
    const hello = parseRelayHandshake(decodeBody((await peer.next())!));
    const original = parseRelayHandshake(decodeBody(originalHello!));
    if (hello.t !== 'hello' || original.t !== 'hello') return t.fail('no hello');
    // Same ephemeral key, so the relay can open the replayed login: only the challenge binding refuses it.
    t.deepEqual(hello.eph, original.eph);
    t.notDeepEqual(hello.challenge, original.challenge);
    peer.send(loginFrame);
    t.is((await peer.next())?.toString('hex'), AUTH_FAILED);
    t.is(await peer.next(), undefined, 'closed after the error');
  }
  t.is(world.relay.runtime.core.state.sessions.size, 1, 'no session was made from the replay');
});

test('S2: a login is good once, on its own connection, and only within loginMaxAgeMs (30 s) of the Hello', (t) => {
  const h = new RelayHarness();
  t.true(h.limits.loginMaxAgeMs <= 30_000);
  const carol = userRecord(['client'], { access: ['*'] });
  // Answered one millisecond too late: refused.
  let { conn, hello } = h.greet('client');
  h.beginLogin(conn);
  h.now += h.limits.loginMaxAgeMs + 1;
  t.deepEqual(plainTo(conn, h.handle({ type: 'login-verified', conn, verdict: h.verdict(hello, 'carol', carol) })), [{ t: 'error', code: 'ERR_AUTH_FAILED' }]);
  // A second Login on a connection already verifying one is not a second chance.
  h.source = '192.0.2.50';
  ({ conn, hello } = h.greet('client'));
  h.beginLogin(conn);
  const again = h.sendPlain(conn, { t: 'login', jwe: 'a.b.c.d.e' });
  t.false(again.some((c) => c.type === 'verify-login'));
  t.true(closed(conn, again));
  // (The adapter reports every check it ran, whether or not its connection is still there.)
  h.handle({ type: 'login-verified', conn, verdict: { passwordOk: false } });
  // And a login replayed on a logged-in control channel is just a frame that does not open.
  h.source = '192.0.2.51';
  const peer = h.login('carol', 'client', carol);
  const replayed = h.sendPlain(peer.conn, { t: 'login', jwe: 'a.b.c.d.e' });
  t.true(closed(peer.conn, replayed));
  h.closeConn(peer.conn);
  t.false(h.core.state.sessions.has(peer.sid));
});

test('S7: streams cost no argon2; a recorded Attach replayed on a new connection, or altered to name another server, gets ERR_AUTH_FAILED', async (t) => {
  const world = await startWorld(t);
  const echo = await echoServer(t);
  const secret = newSecret();
  await startTestSkeleton(t, world, [server('echo', echo.port, secret), server('other', echo.port, secret)]);
  const fwd = await recordingForwarder(t, world.clientTarget.port);
  const client = await connect({ relay: { ...world.clientTarget, port: fwd.port }, user: 'alice', password: new Redacted(PASSWORD) });
  t.teardown(() => client.close());
  const verifications = countVerifications(world.relay);
  for (let i = 0; i < 3; i++) t.is((await sendAndCollect(await client.open('echo', { secret }), Buffer.from(`s${i}`))).toString(), `s${i}`);
  t.is(verifications(), 0, 'three streams, no password work');
  // The first stream's data connection starts with its Attach frame; Noise bytes follow.
  const decoder = new FrameDecoder(1 << 20);
  decoder.append(Buffer.concat(fwd.captures[1]!.up));
  const attach = decodeBody(decoder.next()!) as Record<string, unknown>;
  t.is(attach.t, 'attach');
  for (const forged of [attach, { ...attach, server: 'other' }]) {
    const peer = await RawPeer.open(t, world.clientTarget.port);
    await peer.next();
    peer.send(encodeFrame(forged));
    t.is((await peer.next())?.toString('hex'), AUTH_FAILED);
    t.is(await peer.next(), undefined);
  }
  t.is(echo.connections(), 3);
});

/** A logged-in client control channel, driven by hand. */
async function handControl(world: World): Promise<HandControl> {
  return HandControl.fromSession(await login(world.clientTarget, 'client', { user: 'alice', password: new Redacted(PASSWORD) }));
}

const PEER_TO_RELAY: [string, (c: HandControl) => void][] = [
  ['a replayed frame', (c) => {
    const f = c.seal({ t: 'list', id: 1 });
    c.send(f);
    c.send(f);
  }],
  ['two frames swapped', (c) => {
    const first = c.seal({ t: 'list', id: 1 });
    c.send(c.seal({ t: 'list', id: 2 }));
    c.send(first);
  }],
  ['a dropped frame', (c) => {
    c.seal({ t: 'list', id: 1 });
    c.send(c.seal({ t: 'list', id: 2 }));
  }],
  ['a flipped ciphertext bit', (c) => {
    const f = c.seal({ t: 'list', id: 1 });
    f[4]! ^= 0x01;
    c.send(f);
  }],
  ['a flipped tag bit', (c) => {
    const f = c.seal({ t: 'list', id: 1 });
    f[f.length - 1]! ^= 0x80;
    c.send(f);
  }],
];

for (const [what, attack] of PEER_TO_RELAY) {
  test(`S4: peer -> relay, ${what}: the relay closes the control channel and ends the session`, async (t) => {
    const { world, watch } = await watchedWorld(t);
    const control = await handControl(world);
    const sid = [...world.relay.runtime.core.state.sessions.keys()][0]!;
    attack(control);
    const got = await control.untilClosed();
    // A replay gets its first, genuine copy answered; nothing after the bad frame is.
    const expected = what === 'a replayed frame' ? ['servers', 'error'] : ['error'];
    t.deepEqual(got.map((m) => m.t), expected);
    t.deepEqual(got.at(-1), { t: 'error', code: 'ERR_PROTOCOL' });
    await watch.sessionEnded(sid);
    t.false(world.relay.runtime.core.state.sessions.has(sid));
  });
}

test('S4: the same sealed frames in order are answered (the attacks above are what closes the channel)', async (t) => {
  const { world } = await watchedWorld(t);
  const control = await handControl(world);
  control.send(control.seal({ t: 'list', id: 1 }));
  control.send(control.seal({ t: 'list', id: 2 }));
  t.like(await control.next(), { t: 'servers', id: 1 });
  t.like(await control.next(), { t: 'servers', id: 2 });
  t.is(world.relay.runtime.core.state.sessions.size, 1);
});

/** Tampers with the relay's sealed frames (index 2 on: after Hello and Welcome) on the first connection. */
const RELAY_TO_PEER: [string, number, () => DownTamper][] = [
  ['a flipped bit', 1, () => (conn, i, f) => {
    if (conn === 0 && i === 2) f[f.length - 3]! ^= 0x04;
    return [f];
  }],
  ['a replayed frame', 1, () => (conn, i, f) => (conn === 0 && i === 2 ? [f, f] : [f])],
  ['a dropped frame', 2, () => (conn, i, f) => (conn === 0 && i === 2 ? [] : [f])],
  ['two frames swapped', 2, () => {
    let held: Buffer | undefined;
    return (conn, i, f) => {
      if (conn !== 0 || i < 2 || i > 3) return [f];
      if (i === 2) {
        held = f;
        return [];
      }
      return [f, held!];
    };
  }],
];

for (const [what, requests, tamper] of RELAY_TO_PEER) {
  test(`S4: relay -> peer, ${what}: the peer closes its control channel with ERR_DECRYPT`, async (t) => {
    const world = await startWorld(t);
    const fwd = await recordingForwarder(t, world.clientTarget.port, { tamperDown: tamper() });
    const session = await login({ ...world.clientTarget, port: fwd.port }, 'client', { user: 'alice', password: new Redacted(PASSWORD) });
    const control = new ControlChannel(session);
    t.teardown(() => control.close());
    const closed = once(control, 'close');
    const replies = await Promise.allSettled(Array.from({ length: requests }, () => control.request((id) => ({ t: 'list', id }))));
    const [reason] = (await closed) as [{ code: string }];
    t.is(reason.code, 'ERR_DECRYPT');
    const codes = replies.map((r) => (r.status === 'fulfilled' ? r.value.t : (r.reason as { code: string }).code));
    // Only a frame that arrived intact and in order before the bad one may have been taken.
    t.deepEqual(codes, what === 'a replayed frame' ? ['servers'] : Array<string>(requests).fill('ERR_DECRYPT'));
  });
}
