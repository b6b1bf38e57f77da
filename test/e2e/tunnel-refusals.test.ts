/** Everything that must be refused is refused with the right code, and nothing else is disturbed. */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect } from '../../client/index.js';
import { startForwarder } from '../../client/io/forwarder.js';
import { silentLogger } from '../../shared/log.js';
import { generateRelayKeys } from '../../shared/crypto/relay-key-files.js';
import { encodeFrame } from '../../shared/protocol/codec.js';
import { Redacted } from '../../shared/redacted.js';
import { sendAndCollect } from '../helpers/streams.js';
import { connectTestClient, echoServer, listenLocal, newSecret, PASSWORD, server, startTestSkeleton, startWorld, tempDir, type World } from '../helpers/world.js';

const USERS = {
  alice: { roles: ['client' as const], access: ['echo', 'open-*'] },
  home: { roles: ['skeleton' as const], serve: ['*'] },
};

async function echoWorld(t: Parameters<typeof startWorld>[0]) {
  const world = await startWorld(t, { users: USERS });
  const echo = await echoServer(t);
  const secret = newSecret();
  await startTestSkeleton(t, world, [server('echo', echo.port, secret), server('hidden', echo.port, secret)]);
  return { world, echo, secret };
}

async function stillServes(t: Parameters<typeof startWorld>[0], world: World, secret: Redacted<Buffer>): Promise<void> {
  const client = await connectTestClient(t, world);
  const back = await sendAndCollect(await client.open('echo', { secret }), Buffer.from('still here'));
  t.is(back.toString(), 'still here');
}

test('a wrong password and an unknown user get the same ERR_AUTH_FAILED', async (t) => {
  const { world } = await echoWorld(t);
  const wrong = await t.throwsAsync(connect({ relay: world.clientTarget, user: 'alice', password: new Redacted('nope') }));
  const unknown = await t.throwsAsync(connect({ relay: world.clientTarget, user: 'mallory', password: new Redacted(PASSWORD) }));
  t.is((wrong as { code?: string }).code, 'ERR_AUTH_FAILED');
  t.is((unknown as { code?: string }).code, 'ERR_AUTH_FAILED');
  // A skeleton account may not log in on the client port either.
  const role = await t.throwsAsync(connect({ relay: world.clientTarget, user: 'home', password: new Redacted(PASSWORD) }));
  t.is((role as { code?: string }).code, 'ERR_AUTH_FAILED');
});

test('a relay whose key does not match the pinned fingerprint is refused', async (t) => {
  const { world } = await echoWorld(t);
  const other = await generateRelayKeys(await tempDir(t));
  const err = await t.throwsAsync(connect({ relay: { ...world.clientTarget, fingerprint: other.fingerprint }, user: 'alice', password: new Redacted(PASSWORD) }));
  t.is((err as { code?: string }).code, 'ERR_RELAY_KEY_MISMATCH');
  t.is(world.relay.runtime.core.state.sessions.size, 1, 'only the skeleton is logged in');
});

test('the wrong server secret fails the stream and the target never sees a connection', async (t) => {
  const { world, echo } = await echoWorld(t);
  const client = await connectTestClient(t, world);
  const err = await t.throwsAsync(client.open('echo', { secret: newSecret() }));
  t.is((err as { code?: string }).code, 'ERR_E2E_HANDSHAKE_FAILED');
  t.is(echo.connections(), 0);
});

test('a probe checks the secret without the target seeing a connection', async (t) => {
  const { world, echo, secret } = await echoWorld(t);
  const client = await connectTestClient(t, world);
  await t.notThrowsAsync(client.probe('echo', { secret }));
  const err = await t.throwsAsync(client.probe('echo', { secret: newSecret() }));
  t.is((err as { code?: string }).code, 'ERR_E2E_HANDSHAKE_FAILED');
  t.is(echo.connections(), 0);
});

test('an unknown server and a server outside the access list get the same answer', async (t) => {
  const { world, secret } = await echoWorld(t);
  const client = await connectTestClient(t, world);
  t.deepEqual((await client.list()).map((s) => s.id), ['echo']);
  const missing = await t.throwsAsync(client.open('open-nothing', { secret }));
  const hidden = await t.throwsAsync(client.open('hidden', { secret }));
  t.is((missing as { code?: string }).code, 'ERR_UNKNOWN_SERVER');
  t.is((hidden as { code?: string }).code, 'ERR_UNKNOWN_SERVER');
});

/** Sends bytes on a raw connection and resolves with what the relay answered before it closed. */
function rawExchange(port: number, send: (socket: Socket) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let greeted = false;
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (!greeted) {
        greeted = true;
        send(socket);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

const ABUSE: [string, (s: Socket) => void][] = [
  ['random bytes', (s) => s.write(randomBytes(4096))],
  ['an oversized length', (s) => s.write(Buffer.from([0x7f, 0xff, 0xff, 0xff]))],
  ['a truncated frame', (s) => s.end(encodeFrame({ t: 'login', jwe: 'a.b.c.d.e' }).subarray(0, 10))],
  ['a msgpack bomb', (s) => s.write(Buffer.concat([Buffer.from([0, 0, 0x20, 0]), Buffer.alloc(0x2000, 0x91)]))],
  ['a valid frame of the wrong type', (s) => s.write(encodeFrame({ t: 'hello', v: 1 }))],
];

for (const [what, send] of ABUSE) {
  test(`${what} on either port closes that connection only`, async (t) => {
    const { world, secret } = await echoWorld(t);
    for (const port of [world.relay.addresses.client.port, world.relay.addresses.skeleton.port]) {
      const answer = await rawExchange(port, send);
      t.true(answer.length > 0, 'the relay greeted and then closed');
    }
    await stillServes(t, world, secret);
  });
}

test('with no idle pooled connection the relay asks the skeleton to dial', async (t) => {
  const world = await startWorld(t, { users: USERS });
  const echo = await echoServer(t);
  const secret = newSecret();
  const skeleton = await startTestSkeleton(t, world, [server('echo', echo.port, secret)], { pool: 0 });
  t.is(skeleton.runtime.core.poolTarget, 0);
  const client = await connectTestClient(t, world);
  const back = await sendAndCollect(await client.open('echo', { secret }), Buffer.from('dialled'));
  t.is(back.toString(), 'dialled');
  // The dial made the pool grow by one for the next stream.
  t.is(skeleton.runtime.core.poolTarget, 1);
});

test('a target that refuses: open() rejects with ERR_SERVER_UNREACHABLE, a forwarder (early data) closes the local connection and counts it failed', async (t) => {
  const world = await startWorld(t, { users: USERS });
  const secret = newSecret();
  const down = await listenLocal(t, () => undefined);
  const deadPort = down.port;
  await new Promise<void>((resolve) => down.server.close(() => resolve()));
  await startTestSkeleton(t, world, [server('open-down', deadPort, secret)]);
  const client = await connectTestClient(t, world);
  const err = await t.throwsAsync(client.open('open-down', { secret }));
  t.is((err as { code?: string }).code, 'ERR_SERVER_UNREACHABLE');

  const forwarder = await startForwarder({ client, serverId: 'open-down', secret, host: '127.0.0.1', port: 0, log: silentLogger() });
  t.teardown(() => forwarder.close());
  const local = tcpConnect({ host: '127.0.0.1', port: forwarder.address.port });
  local.write('GET / HTTP/1.0\r\n\r\n');
  const received: Buffer[] = [];
  local.on('data', (chunk: Buffer) => received.push(chunk));
  local.on('error', () => undefined);
  await new Promise((resolve) => local.once('close', resolve)); // reset, as a refused connection would be
  t.is(Buffer.concat(received).length, 0);
  t.is(forwarder.stats().failed, 1);
});

test('an app that resets its connection before any answer cancelled its stream: the forwarder does not count it failed', async (t) => {
  const world = await startWorld(t, { users: USERS });
  const echo = await echoServer(t);
  const secret = newSecret();
  await startTestSkeleton(t, world, [server('echo', echo.port, secret)]);
  const client = await connectTestClient(t, world);
  const outcomes: string[] = [];
  let streamEnded!: () => void;
  const ended = new Promise<void>((resolve) => (streamEnded = resolve));
  const forwarder = await startForwarder({
    client, serverId: 'echo', secret, host: '127.0.0.1', port: 0, log: silentLogger(),
    onStreamEnd: (outcome) => { outcomes.push(outcome); streamEnded(); },
  });
  t.teardown(() => forwarder.close());
  const local = tcpConnect({ host: '127.0.0.1', port: forwarder.address.port });
  await once(local, 'connect');
  local.resetAndDestroy();
  await ended;
  t.deepEqual(outcomes, ['cancelled']);
  t.is(forwarder.stats().failed, 0);
  // The same forwarder still serves the next app.
  const next = tcpConnect({ host: '127.0.0.1', port: forwarder.address.port });
  next.end('still here');
  const back: Buffer[] = [];
  next.on('data', (c: Buffer) => back.push(c));
  await once(next, 'close');
  t.is(Buffer.concat(back).toString(), 'still here');
});
