import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { sendAndCollect } from '../helpers/streams.js';
import { startWsWorld } from '../helpers/ws-world.js';
import { connectTestClient, echoServer, newSecret, server, startTestSkeleton } from '../helpers/world.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('skeleton and client over ws:// list, and echo 2 MB through an end-to-end stream', async (t) => {
  const world = await startWsWorld(t);
  const echo = await echoServer(t);
  const secret = newSecret();
  const skeleton = await startTestSkeleton(t, world, [server('echo', echo.port, secret)]);
  t.deepEqual(skeleton.advertised.accepted, ['echo']);
  const client = await connectTestClient(t, world);
  t.deepEqual((await client.list()).map((s) => s.id), ['echo']);
  const payload = randomBytes(2_000_000);
  const stream = await client.open('echo', { secret });
  t.is(sha(await sendAndCollect(stream, payload)), sha(payload));
});
