import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net, { type Socket } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import { BurrowError } from '../../shared/errors.js';
import { dial, listen } from '../helpers/loopback.js';
import { beginInitiator, secureInitiator, secureProbe, secureResponder as secureResponderOrProbe, type SecureResponderOptions } from '../../shared/crypto/secure-stream.js';

const SERVER_ID = 'db-primary';

/** The responder for a real stream (a probe resolves null instead). */
async function secureResponder(socket: Duplex, opts: SecureResponderOptions): Promise<Duplex> {
  const duplex = await secureResponderOrProbe(socket, opts);
  if (!duplex) throw new Error('expected a stream, got a probe');
  return duplex;
}

/** A connected socket pair: `client` dialled, `server` accepted (optionally through a capturing forwarder). */
async function sockets(t: ExecutionContext, capture?: Buffer[]): Promise<{ client: Socket; server: Socket }> {
  let accepted!: (socket: Socket) => void;
  const serverSocket = new Promise<Socket>((resolve) => (accepted = resolve));
  let port = await listen(t, (socket) => accepted(socket));
  if (capture) {
    const target = port;
    port = await listen(t, (down) => {
      const up = net.connect({ port: target, host: '127.0.0.1', allowHalfOpen: true });
      t.teardown(() => up.destroy());
      for (const side of [down, up]) {
        side.on('data', (chunk: Buffer) => capture.push(chunk));
        side.on('error', () => (side === up ? down : up).destroy());
      }
      down.pipe(up);
      up.pipe(down);
    });
  }
  const client = await dial(t, port);
  return { client, server: await serverSocket };
}

/** Reads a stream to its end without destroying it (for-await would, and kill the write side). */
function collect(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** Writes `data` in uneven chunks (some above one frame) without waiting, then ends. */
function writeUneven(stream: Duplex, data: Buffer): void {
  let offset = 0;
  let step = 1;
  while (offset < data.length) {
    const size = (step * 7919) % 200_000 + 1;
    stream.write(data.subarray(offset, offset + size));
    offset += size;
    step += 1;
  }
  stream.end();
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

async function securePair(t: ExecutionContext, capture?: Buffer[]) {
  const { client, server } = await sockets(t, capture);
  const psk = randomBytes(32);
  const [initiator, responder] = await Promise.all([
    secureInitiator(client, { psk, serverId: SERVER_ID }),
    secureResponder(server, { psk, serverId: SERVER_ID, accept: async () => {} }),
  ]);
  t.teardown(() => {
    initiator.destroy();
    responder.destroy();
  });
  return { client, server, initiator, responder };
}

test('5 MiB each way arrive intact', async (t) => {
  const { initiator, responder } = await securePair(t);
  const up = randomBytes(5 * 1024 * 1024);
  const down = randomBytes(5 * 1024 * 1024);
  const received = Promise.all([collect(responder), collect(initiator)]);
  writeUneven(initiator, up);
  writeUneven(responder, down);
  const [atResponder, atInitiator] = await received;
  t.is(sha256(atResponder), sha256(up));
  t.is(sha256(atInitiator), sha256(down));
});

test('half-close: the responder reads to the end, then replies and ends', async (t) => {
  const { initiator, responder } = await securePair(t);
  const request = Buffer.from('GET /all-of-it');
  const reply = randomBytes(300_000);
  const replyRead = collect(initiator);
  initiator.end(request);
  t.deepEqual(await collect(responder), request);
  t.false(responder.destroyed);
  responder.end(reply);
  t.is(sha256(await replyRead), sha256(reply));
});

test('a wrong psk fails both sides and never reaches accept', async (t) => {
  const { client, server } = await sockets(t);
  let accepted = false;
  const [initiator, responder] = await Promise.allSettled([
    secureInitiator(client, { psk: randomBytes(32), serverId: SERVER_ID }),
    secureResponder(server, { psk: randomBytes(32), serverId: SERVER_ID, accept: async () => void (accepted = true) }),
  ]);
  t.is(codeOfSettled(responder), 'ERR_E2E_HANDSHAKE_FAILED');
  t.is(codeOfSettled(initiator), 'ERR_E2E_HANDSHAKE_FAILED');
  t.false(accepted);
  t.true(server.destroyed);
});

test('a different server id fails the handshake like a wrong psk', async (t) => {
  const { client, server } = await sockets(t);
  const psk = randomBytes(32);
  let accepted = false;
  const [initiator, responder] = await Promise.allSettled([
    secureInitiator(client, { psk, serverId: 'other' }),
    secureResponder(server, { psk, serverId: SERVER_ID, accept: async () => void (accepted = true) }),
  ]);
  t.is(codeOfSettled(responder), 'ERR_E2E_HANDSHAKE_FAILED');
  t.is(codeOfSettled(initiator), 'ERR_E2E_HANDSHAKE_FAILED');
  t.false(accepted);
});

test('a refusal in accept reaches the initiator as its code', async (t) => {
  const { client, server } = await sockets(t);
  const psk = randomBytes(32);
  const [initiator, responder] = await Promise.allSettled([
    secureInitiator(client, { psk, serverId: SERVER_ID }),
    secureResponder(server, {
      psk,
      serverId: SERVER_ID,
      accept: async () => {
        throw new BurrowError('ERR_SERVER_UNREACHABLE');
      },
    }),
  ]);
  t.is(codeOfSettled(initiator), 'ERR_SERVER_UNREACHABLE');
  t.is(codeOfSettled(responder), 'ERR_SERVER_UNREACHABLE');
});

test('a raw TCP end without the end-of-stream frame is ERR_STREAM_TRUNCATED', async (t) => {
  const { client, responder, initiator } = await securePair(t);
  const data: Buffer[] = [];
  responder.on('data', (chunk: Buffer) => data.push(chunk));
  initiator.write('partial answer');
  await once(responder, 'data');
  client.end();
  const [err] = (await once(responder, 'error')) as [BurrowError];
  t.is(err.code, 'ERR_STREAM_TRUNCATED');
  t.is(Buffer.concat(data).toString(), 'partial answer');
});

test('a writer blocked on backpressure fails with ERR_CONNECTION_CLOSED when the peer goes away', async (t) => {
  const { initiator, responder } = await securePair(t);
  const writeDone = new Promise<Error | null | undefined>((resolve) => initiator.write(randomBytes(16 * 1024 * 1024), resolve));
  const failed = once(initiator, 'error') as Promise<[BurrowError]>;
  await once(responder, 'data'); // the transfer is under way; the responder reads no further
  responder.pause();
  responder.destroy();
  const [err] = await failed;
  t.is(err.code, 'ERR_CONNECTION_CLOSED');
  t.is((await writeDone as BurrowError | undefined)?.code, 'ERR_CONNECTION_CLOSED');
});

test('a forged transport frame is ERR_DECRYPT', async (t) => {
  const { client, responder } = await securePair(t);
  responder.resume();
  client.write(Buffer.concat([Buffer.from([0, 24]), randomBytes(24)]));
  const [err] = (await once(responder, 'error')) as [BurrowError];
  t.is(err.code, 'ERR_DECRYPT');
});

test('no answer to message 1 is ERR_TIMEOUT', async (t) => {
  const { client, server } = await sockets(t);
  const err = await t.throwsAsync(secureInitiator(client, { psk: randomBytes(32), serverId: SERVER_ID, timeoutMs: 20 }));
  t.is((err as BurrowError).code, 'ERR_TIMEOUT');
  t.true(client.destroyed);
});

for (const split of [1, 2, 30, 50]) {
  test(`leftover: the first ${split} bytes of message 1 come as leftover, the rest from the socket`, async (t) => {
    const { client, server } = await sockets(t);
    const psk = randomBytes(32);
    const initiator = secureInitiator(client, { psk, serverId: SERVER_ID });
    const leftover = await takeBytes(server, split);
    const responder = secureResponder(server, { psk, serverId: SERVER_ID, leftover, accept: async () => {} });
    const [a, b] = await Promise.all([initiator, responder]);
    const echoed = collect(a);
    b.pipe(b);
    a.end('ping');
    t.is((await echoed).toString(), 'ping');
  });
}

test('a relay in the middle sees no plaintext', async (t) => {
  const capture: Buffer[] = [];
  const { initiator, responder } = await securePair(t, capture);
  const marker = Buffer.from('burrow-plaintext-marker-7f3a9c');
  const echoed = collect(initiator);
  responder.pipe(responder);
  initiator.end(Buffer.concat([marker, marker, marker]));
  t.is((await echoed).toString(), `${marker}${marker}${marker}`);
  const seen = Buffer.concat(capture);
  t.true(seen.length > 3 * marker.length);
  t.is(seen.indexOf(marker), -1);
  t.is(seen.indexOf(marker.subarray(0, 12)), -1);
});

function codeOfSettled(result: PromiseSettledResult<unknown>): string | undefined {
  return result.status === 'rejected' && result.reason instanceof BurrowError ? result.reason.code : undefined;
}

/** Reads exactly `n` bytes off a socket and puts anything beyond them back. */
function takeBytes(socket: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks);
      if (all.length < n) return;
      socket.off('data', onData);
      socket.off('error', reject);
      socket.pause();
      if (all.length > n) socket.unshift(all.subarray(n));
      resolve(all.subarray(0, n));
    };
    socket.on('data', onData);
    socket.on('error', reject);
  });
}

test('a probe proves the secret without the responder opening its target', async (t) => {
  const psk = randomBytes(32);
  let accepted = false;
  const right = await sockets(t);
  const [answer] = await Promise.all([
    secureResponderOrProbe(right.server, { psk, serverId: SERVER_ID, accept: async () => void (accepted = true) }),
    secureProbe(right.client, { psk, serverId: SERVER_ID }),
  ]);
  t.is(answer, null);
  t.false(accepted);
  const wrong = await sockets(t);
  const [responder, prober] = await Promise.allSettled([
    secureResponderOrProbe(wrong.server, { psk, serverId: SERVER_ID, accept: async () => void (accepted = true) }),
    secureProbe(wrong.client, { psk: randomBytes(32), serverId: SERVER_ID }),
  ]);
  t.is(responder.status === 'rejected' && (responder.reason as BurrowError).code, 'ERR_E2E_HANDSHAKE_FAILED');
  t.is(prober.status === 'rejected' && (prober.reason as BurrowError).code, 'ERR_E2E_HANDSHAKE_FAILED');
  t.false(accepted);
});

/** An accept() the test releases by hand, and whether it was called. */
function gate(): { accept: () => Promise<void>; called: Promise<void>; open: () => void; refuse: (err: Error) => void } {
  let open!: () => void;
  let refuse!: (err: Error) => void;
  let onCall!: () => void;
  const called = new Promise<void>((resolve) => (onCall = resolve));
  const released = new Promise<void>((resolve, reject) => {
    open = resolve;
    refuse = reject;
  });
  return { accept: () => (onCall(), released), called, open, refuse };
}

test('early data: the initiator resolves before the target accepted, its first bytes reach the target after it', async (t) => {
  const { client, server } = await sockets(t);
  const psk = randomBytes(32);
  const target = gate();
  const responding = secureResponder(server, { psk, serverId: SERVER_ID, accept: target.accept });
  const initiator = await secureInitiator(client, { psk, serverId: SERVER_ID, earlyData: true });
  t.teardown(() => initiator.destroy());
  initiator.write('GET / before the verdict\n');
  // The initiator is ready while the responder still waits on its target: no verdict was awaited.
  let responderReady = false;
  void responding.then(() => (responderReady = true), () => undefined);
  await target.called;
  t.false(responderReady);
  target.open();
  const responder = await responding;
  t.teardown(() => responder.destroy());
  const [line] = (await once(responder, 'data')) as [Buffer];
  t.is(line.toString(), 'GET / before the verdict\n');
  responder.write('HTTP/1.1 200 OK\r\n');
  const [reply] = (await once(initiator, 'data')) as [Buffer];
  t.is(reply.toString(), 'HTTP/1.1 200 OK\r\n');
});

test('early data: the confirm and the first bytes written in the same turn leave in one write to the socket', async (t) => {
  const { client, server } = await sockets(t);
  const psk = randomBytes(32);
  // What the initiator hands its socket, one entry per write that reaches it (a corked batch is one).
  const writes: number[] = [];
  const socket = client as unknown as { _write: (...args: unknown[]) => void; _writev: (...args: unknown[]) => void };
  const write = socket._write.bind(client);
  const writev = socket._writev.bind(client);
  socket._write = (...args: unknown[]) => { writes.push(1); write(...args); };
  socket._writev = (...args: unknown[]) => { writes.push((args[0] as unknown[]).length); writev(...args); };
  const responding = secureResponder(server, { psk, serverId: SERVER_ID, accept: async () => undefined });
  const initiator = await secureInitiator(client, { psk, serverId: SERVER_ID, earlyData: true });
  t.teardown(() => initiator.destroy());
  initiator.write('first bytes');
  const responder = await responding;
  t.teardown(() => responder.destroy());
  const [line] = (await once(responder, 'data')) as [Buffer];
  t.is(line.toString(), 'first bytes');
  // Message 1, then the confirm and the sealed data together.
  t.is(writes.length, 2);
  t.true(writes[1]! >= 2);
});

test('early data: a refusal verdict fails the stream with its code, and the early bytes never reach anyone', async (t) => {
  const { client, server } = await sockets(t);
  const psk = randomBytes(32);
  const target = gate();
  const responding = secureResponder(server, { psk, serverId: SERVER_ID, accept: target.accept });
  const initiator = await secureInitiator(client, { psk, serverId: SERVER_ID, earlyData: true });
  initiator.write('early bytes');
  initiator.resume();
  target.refuse(new BurrowError('ERR_SERVER_UNREACHABLE'));
  const [settled] = await Promise.allSettled([responding]);
  t.is(codeOfSettled(settled), 'ERR_SERVER_UNREACHABLE');
  const [err] = (await once(initiator, 'error')) as [BurrowError];
  t.is(err.code, 'ERR_SERVER_UNREACHABLE');
});

test('message 1 written by the caller ahead of time (pipelined behind its own request) completes the handshake', async (t) => {
  const { client, server } = await sockets(t);
  const psk = randomBytes(32);
  const start = beginInitiator({ psk, serverId: SERVER_ID });
  client.write(start.message1);
  const [initiator, responder] = await Promise.all([
    secureInitiator(client, { psk, serverId: SERVER_ID, start }),
    secureResponder(server, { psk, serverId: SERVER_ID, accept: async () => {} }),
  ]);
  t.teardown(() => {
    initiator.destroy();
    responder.destroy();
  });
  initiator.end('ping');
  t.is((await collect(responder)).toString(), 'ping');
});

test('early data and a half-close that arrive while the responder waits on its target still make a stream', async (t) => {
  const { client, server } = await sockets(t);
  const psk = randomBytes(32);
  const target = gate();
  const responding = secureResponder(server, { psk, serverId: SERVER_ID, accept: target.accept });
  // The request, the end-of-stream and the FIN arrive while the responder still waits on its target,
  // so its socket has ended before it hands over.
  const initiator = await secureInitiator(client, { psk, serverId: SERVER_ID, earlyData: true });
  t.teardown(() => initiator.destroy());
  initiator.end('request and FIN');
  await target.called;
  await once(server, 'end');
  target.open();
  const responder = await responding;
  t.teardown(() => responder.destroy());
  t.is((await collect(responder)).toString(), 'request and FIN');
  responder.end('answer');
  t.is((await collect(initiator)).toString(), 'answer');
});
