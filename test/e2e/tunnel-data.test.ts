/** What the tunnel carries: big transfers intact both ways, many streams at once, half-close. */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { connectTestClient, echoServer, listenLocal, newSecret, server, startTestSkeleton, startWorld } from '../helpers/world.js';
import { expectedSha256, patternStream, sendAndCollect, sha256Of } from '../helpers/streams.js';

const GIB = 1024 ** 3;

test('one stream carries 1 GiB each way at once, intact', async (t) => {
  t.timeout(180_000);
  const world = await startWorld(t);
  const secret = newSecret();
  // The home server sends 1 GiB of its own while it checksums the 1 GiB it receives.
  let upload: Promise<{ hex: string; bytes: number }> | undefined;
  const { port } = await listenLocal(t, (socket) => {
    patternStream(GIB, 'down').pipe(socket);
    upload = sha256Of(socket);
  });
  await startTestSkeleton(t, world, [server('bulk', port, secret)]);
  const client = await connectTestClient(t, world);
  const stream = await client.open('bulk', { secret });
  const [down] = await Promise.all([sha256Of(stream), pipeline(patternStream(GIB, 'up'), stream)]);
  t.truthy(upload, 'the home server saw the stream');
  const up = await upload!;
  t.is(up.bytes, GIB);
  t.is(down.bytes, GIB);
  t.is(up.hex, await expectedSha256(GIB, 'up'));
  t.is(down.hex, await expectedSha256(GIB, 'down'));
});

test('100 concurrent streams to one server all get their own bytes back', async (t) => {
  t.timeout(60_000);
  const world = await startWorld(t);
  const echo = await echoServer(t);
  const secret = newSecret();
  await startTestSkeleton(t, world, [server('echo', echo.port, secret)]);
  const client = await connectTestClient(t, world);
  const payloads = Array.from({ length: 100 }, () => randomBytes(32 * 1024 + Math.floor(Math.random() * 32 * 1024)));
  const results = await Promise.all(payloads.map(async (payload) => sendAndCollect(await client.open('echo', { secret }), payload)));
  t.is(echo.connections(), 100);
  results.forEach((back, i) => t.true(back.equals(payloads[i]!), `stream ${i} intact`));
});

test('half-close: a client that shuts its sending side still gets the whole reply', async (t) => {
  const world = await startWorld(t);
  const secret = newSecret();
  const reply = randomBytes(3 * 1024 * 1024);
  // Answers only after the request has ended, like a server reading a request to EOF.
  const { port } = await listenLocal(t, (socket) => {
    let got = 0;
    socket.on('data', (c: Buffer) => { got += c.length; });
    socket.on('end', () => socket.end(Buffer.concat([Buffer.from(`${got}\n`), reply])));
  });
  await startTestSkeleton(t, world, [server('halfclose', port, secret)]);
  const client = await connectTestClient(t, world);
  const request = randomBytes(100_000);
  const back = await sendAndCollect(await client.open('halfclose', { secret }), request);
  t.true(back.equals(Buffer.concat([Buffer.from(`${request.length}\n`), reply])));
});
