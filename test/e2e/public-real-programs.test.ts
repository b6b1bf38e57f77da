/**
 * Public ingress with programs nobody here wrote: swaks mails a real SMTP server through a published
 * tcp port; nginx, reading PROXY protocol, says which public address it saw through a tcp and an https
 * publication (curl connects from an address of its own, so the answer cannot be a coincidence).
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { SMTPServer } from 'smtp-server';
import { startNginx } from '../helpers/nginx.js';
import { selfSigned } from '../helpers/self-signed.js';
import { privateLoopback, startTestSkeleton, startWorld, tempDir, type UserSpec } from '../helpers/world.js';

const exec = promisify(execFile);
const USERS: Record<string, UserSpec> = { home: { roles: ['skeleton'], serve: ['home-*'], publish: ['tcp:20000-20099', '*.home.example.net'] } };
const NAME = 'www.home.example.net';

test('swaks delivers a mail to the home SMTP server through the relay\'s published port 20025', async (t) => {
  const host = privateLoopback();
  const world = await startWorld(t, { users: USERS, relay: { publicHost: host, publicPorts: '20025' } });
  let deliver!: (message: string) => void;
  const received = new Promise<string>((resolve) => (deliver = resolve));
  const smtp = new SMTPServer({
    // A connection left over at teardown is cut after 2 s, not the default 30 s.
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false, closeTimeout: 2_000,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => { deliver(Buffer.concat(chunks).toString()); callback(); });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => smtp.close(() => resolve())));
  const port = (smtp.server.address() as AddressInfo).port;
  await startTestSkeleton(t, world, [{ id: 'home-mail', host: '127.0.0.1', port, description: '', protocol: 'smtp', publications: [{ server: 'home-mail', url: 'tcp://:20025' }] }]);
  await world.relay.ingress.listening('tcp://:20025');
  const swaks = await exec('swaks', ['--server', host, '--port', '20025', '--timeout', '30', '--from', 'a@example.test', '--to', 'b@home.example.net', '--body', 'public smtp marker']);
  t.regex(swaks.stdout, /^ -> QUIT$/m);
  t.true((await received).includes('public smtp marker'));
});

test('PROXY protocol v2: nginx at home sees the public client\'s own address through a tcp and an https publication', async (t) => {
  const host = privateLoopback();
  const home = privateLoopback();
  const client = privateLoopback();
  const world = await startWorld(t, { users: USERS, relay: { publicHost: host, publicPorts: '20080', httpsPort: 8443, allowProxyProtocol: true } });
  const dir = await tempDir(t);
  const { certFile, keyFile } = await selfSigned(dir, [NAME]);
  await startNginx(t, dir, `
  server { listen ${home}:18080 proxy_protocol; location / { return 200 "seen $proxy_protocol_addr\\n"; } }
  server { listen ${home}:18443 ssl proxy_protocol; server_name ${NAME}; ssl_certificate ${certFile}; ssl_certificate_key ${keyFile};
    location / { return 200 "tls seen $proxy_protocol_addr\\n"; } }
`);
  await startTestSkeleton(t, world, [
    { id: 'home-web', host: home, port: 18080, description: '', protocol: 'http', proxy: 'v2', publications: [{ server: 'home-web', url: 'tcp://:20080' }] },
    { id: 'home-tls', host: home, port: 18443, description: '', protocol: 'https', proxy: 'v2', publications: [{ server: 'home-tls', url: `https://${NAME}` }] },
  ]);
  await world.relay.ingress.listening('tcp://:20080');
  const plain = await exec('curl', ['-sS', '--fail', '--interface', client, `http://${host}:20080/`]);
  t.is(plain.stdout, `seen ${client}\n`);
  const tls = await exec('curl', ['-sS', '--fail', '--interface', client, '--cacert', certFile, '--resolve', `${NAME}:8443:${host}`, `https://${NAME}:8443/`]);
  t.is(tls.stdout, `tls seen ${client}\n`);
});
