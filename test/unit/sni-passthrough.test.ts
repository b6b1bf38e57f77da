/**
 * The bytes ClientHelloReader hands back are the connection's own: a relay that reads the hello in pieces,
 * then writes `bytes` and splices the rest to a TLS server it knows nothing about, lets a real client
 * finish a real handshake with that server's certificate (the relay holds no key) and exchange data.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net, { type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { ClientHelloReader } from '../../relay/public/client-hello.js';
import { listen } from '../helpers/loopback.js';

const NAME = 'www.home.example';

/** A throwaway self-signed certificate for NAME, made by openssl. */
function certificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-sni-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${NAME}`, '-addext', `subjectAltName=DNS:${NAME}`, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a hello read in pieces and forwarded as `bytes` completes a real handshake with the home server', async (t) => {
  const { key, cert } = certificate();
  const home = tls.createServer({ key, cert }, (socket) => socket.pipe(socket));
  home.listen(0, '127.0.0.1');
  t.teardown(() => home.close());
  await new Promise((resolve) => home.once('listening', resolve));
  const homePort = (home.address() as net.AddressInfo).port;

  const seen: string[] = [];
  const relayPort = await listen(t, (pub: Socket) => {
    const reader = new ClientHelloReader();
    const onData = (chunk: Buffer) => {
      // Two pushes per segment: the split must not matter.
      reader.push(chunk.subarray(0, 3));
      const result = reader.push(chunk.subarray(3));
      if (result.state === 'need-more') return;
      // Paused: what the client sends while the home server is dialled must wait, not be dropped.
      pub.off('data', onData);
      pub.pause();
      if (result.state === 'refused') return void pub.destroy();
      seen.push(result.serverName);
      const upstream = net.connect(homePort, '127.0.0.1', () => {
        upstream.write(result.bytes);
        pub.pipe(upstream).pipe(pub);
      });
      upstream.on('error', () => pub.destroy());
      t.teardown(() => upstream.destroy());
    };
    pub.on('data', onData);
  });

  const client = tls.connect({ host: '127.0.0.1', port: relayPort, servername: NAME, ca: cert, ALPNProtocols: ['h2', 'http/1.1'] });
  t.teardown(() => client.destroy());
  client.on('error', (err) => t.fail(err.message));
  await new Promise((resolve) => client.once('secureConnect', resolve));
  t.true(client.authorized, 'the home server\'s own certificate verified');
  client.write('marker through the relay');
  const [echo] = (await new Promise((resolve) => client.once('data', (d: Buffer) => resolve([d])))) as [Buffer];
  t.is(echo.toString(), 'marker through the relay');
  t.deepEqual(seen, [NAME]);
});
