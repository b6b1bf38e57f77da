import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { sendAndCollect } from '../helpers/streams.js';
import { join } from 'node:path';
import { runCli } from '../helpers/cli-process.js';
import { startWsWorld, WS_PATH } from '../helpers/ws-world.js';
import { connectTestClient, echoServer, newSecret, PASSWORD, server, startTestSkeleton, tempDir } from '../helpers/world.js';

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

test('burrow client trust ws://... pins the relay read through its WebSocket endpoint; list then needs no --fingerprint', async (t) => {
  const world = await startWsWorld(t);
  const dir = await tempDir(t);
  const known = join(dir, 'known_relays');
  const url = `ws://127.0.0.1:${world.relay.addresses.ws!.port}${WS_PATH}`;
  const trusted = await runCli(['client', 'trust', url, '--yes', '--known-relays', known]);
  t.is(trusted.code, 0, trusted.stderr);
  t.true(trusted.stdout.includes(world.identity.fingerprint), trusted.stdout);
  const listed = await runCli(['client', 'list', '--relay', url, '--known-relays', known, '--user', 'alice'], { BURROW_PASSWORD: PASSWORD });
  t.is(listed.code, 0, listed.stderr);
});
