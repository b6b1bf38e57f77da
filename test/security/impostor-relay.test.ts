/**
 * S1/S3 against an impostor relay: a tiny fake relay built from the real message shapes that either
 * signs with a key it owns (not the pinned one), or replays a real relay's Hello. The client and the
 * skeleton must refuse it before any credential leaves, and a replayed Hello yields a login nobody
 * but the real relay can open.
 */
import test, { type ExecutionContext } from 'ava';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { connect } from '../../client/index.js';
import { EphemeralKeyRing } from '../../shared/crypto/ephemeral-key.js';
import { openLogin } from '../../shared/crypto/login-token.js';
import { sealWelcome } from '../../shared/crypto/welcome-token.js';
import { generateX25519 } from '../../shared/crypto/x25519-raw.js';
import type { ErrorCode } from '../../shared/errors.js';
import { decodeBody, encodeFrame, frame, FrameDecoder } from '../../shared/protocol/codec.js';
import { PROTOCOL_VERSION, type Hello, type PortRole } from '../../shared/protocol/messages.js';
import { parsePeerHandshake, parseRelayHandshake } from '../../shared/protocol/parse.js';
import { Redacted } from '../../shared/redacted.js';
import { startSkeleton } from '../../skeleton/index.js';
import { closedOf, RawPeer } from '../helpers/security-net.js';
import { PASSWORD, startWorld, type World } from '../helpers/world.js';

interface FakeConnection {
  socket: Socket;
  /** Everything the peer sent after our Hello (we send it the moment the peer connects). */
  received: Buffer[];
  closed: Promise<void>;
}

/**
 * A fake relay: greets every connection with `hello`, records all it gets, and hands each whole frame
 * the peer sends to `onFrame`.
 */
async function fakeRelay(
  t: ExecutionContext, hello: () => Buffer, onFrame?: (conn: FakeConnection, body: Buffer) => void | Promise<void>,
): Promise<{ port: number; connections: FakeConnection[]; connected: Promise<FakeConnection> }> {
  const connections: FakeConnection[] = [];
  let first: (c: FakeConnection) => void = () => undefined;
  const connected = new Promise<FakeConnection>((resolve) => { first = resolve; });
  const server = createServer((socket) => {
    const conn: FakeConnection = { socket, received: [], closed: closedOf(socket) };
    connections.push(conn);
    socket.on('error', () => socket.destroy());
    const decoder = new FrameDecoder(1 << 20);
    socket.on('data', (chunk: Buffer) => {
      conn.received.push(chunk);
      for (const body of decoder.push(chunk)) void onFrame?.(conn, body);
    });
    socket.write(hello());
    first(conn);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const c of connections) c.socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, connections, connected };
}

function rawPublic(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).x as string, 'base64url');
}

/** A Hello the impostor can make: its own ephemeral key signed by its own identity, claiming `claimedKey`. */
function impostorHello(port: PortRole, claimedKey?: Buffer): Buffer {
  const identity = generateKeyPairSync('ed25519');
  const eph = new EphemeralKeyRing(identity.privateKey).current(Date.now());
  const hello: Hello = {
    t: 'hello', v: PROTOCOL_VERSION, port, challenge: randomBytes(32),
    key: claimedKey ?? rawPublic(identity.publicKey), eph: eph.raw, exp: eph.exp, sig: eph.sig,
  };
  return encodeFrame(hello);
}

/** The exact bytes of a Hello frame the real relay sent on one of its ports. */
async function captureHello(t: ExecutionContext, world: World, port: PortRole): Promise<Buffer> {
  const peer = await RawPeer.open(t, port === 'client' ? world.clientTarget.port : world.skeletonTarget.port);
  const body = await peer.next();
  peer.socket.destroy();
  t.truthy(body, 'the real relay greeted us');
  return frame(body!);
}

async function clientCode(world: World, port: number): Promise<ErrorCode | 'ok'> {
  try {
    const client = await connect({ relay: { ...world.clientTarget, port }, user: 'alice', password: new Redacted(PASSWORD) });
    client.close();
    return 'ok';
  } catch (err) {
    return (err as { code: ErrorCode }).code;
  }
}

const FORGERIES: [string, (world: World, port: PortRole) => Promise<Buffer> | Buffer][] = [
  ['its own key', (_w, port) => impostorHello(port)],
  ['the pinned key with a signature by another key', (w, port) => impostorHello(port, rawPublic(w.identity.publicKey))],
];

for (const [what, makeHello] of FORGERIES) {
  test(`S3: an impostor relay greeting with ${what} is refused with ERR_RELAY_KEY_MISMATCH and receives zero bytes`, async (t) => {
    const world = await startWorld(t);
    for (const port of ['client', 'skeleton'] as const) {
      const hello = await makeHello(world, port);
      const fake = await fakeRelay(t, () => hello);
      let code: ErrorCode | 'ok';
      if (port === 'client') {
        code = await clientCode(world, fake.port);
      } else {
        code = await startSkeleton({ relay: { ...world.skeletonTarget, port: fake.port }, user: 'home', password: new Redacted(PASSWORD), servers: [] })
          .then((s) => { void s.close(); return 'ok' as const; }, (err: { code: ErrorCode }) => err.code);
      }
      t.is(code, 'ERR_RELAY_KEY_MISMATCH', port);
      const conn = await fake.connected;
      await conn.closed;
      t.is(Buffer.concat(conn.received).length, 0, `${port}: nothing left the peer after the impostor's Hello`);
      t.is(fake.connections.length, 1, `${port}: a key mismatch is not retried`);
    }
  });
}

test('S3: an impostor that puts its own ephemeral key under a real relay\'s signature is refused before any byte is sent', async (t) => {
  const world = await startWorld(t);
  const real = parseRelayHandshake(decodeBody((await captureHello(t, world, 'client')).subarray(4)));
  if (real.t !== 'hello') return t.fail('no hello');
  const forged = encodeFrame({ ...real, eph: generateX25519().raw });
  const fake = await fakeRelay(t, () => forged);
  t.is(await clientCode(world, fake.port), 'ERR_RELAY_KEY_MISMATCH');
  const conn = await fake.connected;
  await conn.closed;
  t.is(Buffer.concat(conn.received).length, 0);
});

test('S1: an impostor replaying a real Hello gets a login it cannot open: no user name or password in its bytes, and the client fails', async (t) => {
  const world = await startWorld(t);
  const helloBytes = await captureHello(t, world, 'client');
  const hello = parseRelayHandshake(decodeBody(helloBytes.subarray(4)));
  if (hello.t !== 'hello') return t.fail('no hello');
  let loginBody: Buffer | undefined;
  const fake = await fakeRelay(t, () => helloBytes, (conn, body) => {
    loginBody ??= body;
    conn.socket.end();
  });
  t.is(await clientCode(world, fake.port), 'ERR_CONNECTION_CLOSED');
  const conn = await fake.connected;
  await conn.closed;
  const wire = Buffer.concat(conn.received);
  t.truthy(loginBody, 'the genuine Hello was accepted, so the client did send its login');
  t.is(wire.length, 4 + loginBody!.length, 'exactly one frame, the login, and nothing after it');
  const login = parsePeerHandshake(decodeBody(loginBody!));
  if (login.t !== 'login') return t.fail('not a login');
  for (const secret of [PASSWORD, 'alice']) {
    for (const form of [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('base64url'), Buffer.from(secret).toString('hex')]) {
      t.false(wire.includes(Buffer.from(form)), `the login bytes do not carry ${secret} as ${form}`);
    }
  }
  // The impostor cannot open it with any key of its own ...
  const err = await t.throwsAsync(openLogin(generateX25519().privateKey, login.jwe));
  t.is((err as { code?: string }).code, 'ERR_AUTH_FAILED');
  // ... while the real relay's ephemeral private key does: the password is in there, sealed.
  const eph = world.relay.runtime.core.state.deps.ephemeral(Date.now());
  t.deepEqual(eph.raw, hello.eph, 'the relay has not rotated its key meanwhile');
  const claims = await openLogin(eph.privateKey, login.jwe);
  t.is(claims.user, 'alice');
  t.is(claims.password.reveal(), PASSWORD);
});

test('S3: an impostor replaying a real Hello cannot answer with a Welcome the client accepts', async (t) => {
  const world = await startWorld(t);
  const helloBytes = await captureHello(t, world, 'client');
  const fake = await fakeRelay(t, () => helloBytes, async (conn) => {
    // Its best guess: a well-formed Welcome under a key of its own.
    const jwe = await sealWelcome(new Redacted(randomBytes(32)), { sid: 'c2Vzc2lvbg', sessionKey: new Redacted(randomBytes(32)), exp: Date.now() + 60_000, pingMs: 10_000 });
    conn.socket.write(encodeFrame({ t: 'welcome', jwe }));
  });
  t.is(await clientCode(world, fake.port), 'ERR_RELAY_KEY_MISMATCH');
  const conn = await fake.connected;
  await conn.closed;
  const frames = new FrameDecoder(1 << 20).push(Buffer.concat(conn.received));
  t.is(frames.length, 1, 'only the login: no request was sent on the forged session');
  t.is(parsePeerHandshake(decodeBody(frames[0]!)).t, 'login');
});
