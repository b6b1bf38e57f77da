/**
 * One port for everything (issue 18, item 3): on the relay's HTTPS port its own name is terminated by
 * the relay for its WebSocket endpoint, so a skeleton and a client reach it with wss:// on that port,
 * while a published name on the same port is still passed through untouched to its home server.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { RelayTarget } from '../../shared/peer/relay-address.js';
import { selfSigned } from '../helpers/self-signed.js';
import { connectTestClient, echoServer, newSecret, privateLoopback, server, startTestSkeleton, startWorld, tempDir, type UserSpec } from '../helpers/world.js';
import { sendAndCollect } from '../helpers/streams.js';

const exec = promisify(execFile);
const USERS: Record<string, UserSpec> = {
  alice: { roles: ['client'], access: ['home-*'] },
  home: { roles: ['skeleton'], serve: ['home-*'], publish: ['*.home.example.net'] },
};
const RELAY = 'relay.example.net';
const SITE = 'www.home.example.net';

test('one port: skeleton and client reach the relay over wss:// on its HTTPS port, while a published name there is still passed through', async (t) => {
  const dir = await tempDir(t);
  const relayCert = await selfSigned(dir, [RELAY]);
  const host = privateLoopback();
  const world = await startWorld(t, {
    users: USERS,
    relay: { publicHost: host, httpsPort: 8443, relayName: RELAY, tlsCertFile: relayCert.certFile, tlsKeyFile: relayCert.keyFile, wsPath: '/burrow' },
  });
  const ca = [await readFile(relayCert.certFile, 'utf8')];
  const wss: RelayTarget = { host, port: 8443, fingerprint: world.identity.fingerprint, ws: { tls: true, path: '/burrow', servername: RELAY, ca } };
  const via = { ...world, clientTarget: wss, skeletonTarget: wss };
  const echo = await echoServer(t);
  const secret = newSecret();
  const site = await selfSigned(dir, [SITE]);
  const home = createServer({ key: site.key, cert: site.cert }, (_req, res) => res.end('home site\n'));
  home.listen(0, '127.0.0.1');
  await once(home, 'listening');
  t.teardown(() => home.close());
  const skeleton = await startTestSkeleton(t, via, [
    server('home-echo', echo.port, secret),
    { id: 'home-site', host: '127.0.0.1', port: (home.address() as AddressInfo).port, description: '', protocol: 'https', publications: [{ server: 'home-site', url: `https://${SITE}` }] },
  ]);
  t.deepEqual(skeleton.advertised.published, [`https://${SITE}`]);
  const client = await connectTestClient(t, via);
  t.deepEqual((await client.list()).map((s) => s.id), ['home-echo']);
  const payload = Buffer.alloc(300_000, 5);
  t.true((await sendAndCollect(await client.open('home-echo', { secret }), payload)).equals(payload));
  // The same port, another name: passed through to the home server, which holds its own certificate.
  const { stdout } = await exec('curl', ['-sS', '--fail', '--cacert', site.certFile, '--resolve', `${SITE}:8443:${host}`, `https://${SITE}:8443/`]);
  t.is(stdout, 'home site\n');
});
