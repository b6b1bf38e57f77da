import test from 'ava';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { createServer } from 'node:https';
import { promisify } from 'node:util';
import { selfSigned } from '../helpers/self-signed.js';
import { privateLoopback, startTestSkeleton, startWorld, tempDir, type UserSpec } from '../helpers/world.js';

const run = promisify(execFile);
const USERS: Record<string, UserSpec> = { home: { roles: ['skeleton'], serve: ['home-*'], publish: ['*.home.example.net'] } };
const NAME = 'www.home.example.net';

async function homeHttps(t: import('ava').ExecutionContext, dir: string) {
  const { key, cert, certFile } = await selfSigned(dir, [NAME]);
  const server = createServer({ key, cert }, (req, res) => res.end(`hello from home, ${req.headers.host}\n`));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  return { port: (server.address() as AddressInfo).port, certFile };
}

test('https by SNI is passed through: curl verifies the home server\'s own certificate through the relay, which holds none', async (t) => {
  const host = privateLoopback();
  const world = await startWorld(t, { users: USERS, relay: { publicHost: host, httpsPort: 8443 } });
  const dir = await tempDir(t);
  const home = await homeHttps(t, dir);
  const skeleton = await startTestSkeleton(t, world, [{ id: 'home-tls', host: '127.0.0.1', port: home.port, description: '', protocol: 'https', publications: [{ server: 'home-tls', url: `https://${NAME}` }] }]);
  t.deepEqual(skeleton.advertised.published, [`https://${NAME}`]);
  const { stdout } = await run('curl', ['-sS', '--fail', '--cacert', home.certFile, '--resolve', `${NAME}:8443:${host}`, `https://${NAME}:8443/`]);
  t.is(stdout, `hello from home, ${NAME}:8443\n`);
  const stats = world.relay.ingress.stats.get(`https://${NAME}`);
  t.is(stats?.connections, 1);
});

test('an unknown name gets a TLS unrecognized_name alert, a hello without SNI a handshake failure, and plain text is closed', async (t) => {
  const host = privateLoopback();
  const world = await startWorld(t, { users: USERS, relay: { publicHost: host, httpsPort: 8443 } });
  const unknown = await run('curl', ['-sS', '-k', '--resolve', `nobody.example.org:8443:${host}`, 'https://nobody.example.org:8443/']).then(() => 'ok', (err: { stderr: string }) => err.stderr);
  t.regex(unknown, /unrecognized name|unrecognised name|alert/i);
  const noSni = await run('curl', ['-sS', '-k', `https://${host}:8443/`]).then(() => 'ok', (err: { stderr: string }) => err.stderr);
  t.regex(noSni, /handshake failure|alert/i);
  const socket = netConnect({ host, port: 8443 });
  socket.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  socket.on('data', () => t.fail('plain text got an answer'));
  await once(socket, 'close');
  const counted = world.relay.ingress.stats.get('https')?.refusals ?? {};
  t.deepEqual({ unknown: counted['unknown-host'], noSni: counted['no-sni'], notTls: counted['not-tls'] }, { unknown: 1, noSni: 1, notTls: 1 });
});

test('a ClientHello trickled slower than the head deadline is cut (slowloris)', async (t) => {
  const host = privateLoopback();
  const world = await startWorld(t, { users: USERS, relay: { publicHost: host, httpsPort: 8443, publicHeadTimeoutMs: 300 } });
  const socket = netConnect({ host, port: 8443 });
  await once(socket, 'connect');
  socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02]));
  await once(socket, 'close');
  t.is(world.relay.ingress.stats.get('https')?.refusals['head-timeout'], 1);
});
