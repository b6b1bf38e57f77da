import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { sendAndCollect } from '../helpers/streams.js';
import { connectTestClient, echoServer, newSecret, server, startTestSkeleton, startWorld } from '../helpers/world.js';

test('a client lists the advertised server and echoes through an end-to-end stream', async (t) => {
  const world = await startWorld(t);
  const echo = await echoServer(t);
  const secret = newSecret();
  const skeleton = await startTestSkeleton(t, world, [server('echo', echo.port, secret, { description: 'an echo', protocol: 'echo' })]);
  t.deepEqual(skeleton.advertised.accepted, ['echo']);
  const client = await connectTestClient(t, world);
  t.deepEqual(await client.list(), [{ id: 'echo', description: 'an echo', protocol: 'echo' }]);
  const payload = randomBytes(200_000);
  const stream = await client.open('echo', { secret });
  const back = await sendAndCollect(stream, payload);
  t.is(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(payload).digest('hex'));
});
