/**
 * relay/public/tls-alert.ts: the alert the relay writes in clear instead of routing a hello is one a real
 * TLS client reads as that alert (Node's OpenSSL reports it by name), for TLS 1.3 and TLS 1.2 clients.
 */
import test from 'ava';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { ClientHelloReader } from '../../relay/public/client-hello.js';
import { alertForRefusal, tlsAlert, unrecognizedNameAlert } from '../../relay/public/tls-alert.js';
import { listen } from '../helpers/loopback.js';

/** A front door that publishes nothing: it answers every hello with the alert the relay would send. */
async function frontDoor(t: Parameters<typeof listen>[0]): Promise<number> {
  return listen(t, (socket: Socket) => {
    const reader = new ClientHelloReader();
    socket.on('data', (chunk: Buffer) => {
      const result = reader.push(chunk);
      if (result.state === 'done') socket.end(unrecognizedNameAlert());
      else if (result.state === 'refused') socket.end(alertForRefusal(result.reason) ?? Buffer.alloc(0));
    });
  });
}

async function clientError(t: Parameters<typeof listen>[0], options: tls.ConnectionOptions): Promise<string | undefined> {
  const port = await frontDoor(t);
  const client = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
  t.teardown(() => client.destroy());
  const [err] = (await once(client, 'error')) as [NodeJS.ErrnoException];
  return err.code;
}

test('an unknown name gets an unrecognized_name alert that TLS 1.3 and 1.2 clients read as such', async (t) => {
  t.is(await clientError(t, { servername: 'nobody.example' }), 'ERR_SSL_TLSV1_UNRECOGNIZED_NAME');
  t.is(await clientError(t, { servername: 'nobody.example', maxVersion: 'TLSv1.2' }), 'ERR_SSL_TLSV1_UNRECOGNIZED_NAME');
});

test('a hello without a server name gets a handshake_failure alert', async (t) => {
  t.is(await clientError(t, {}), 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE');
});

test('alert records: fatal, version 0x0303, the description asked for; none for bytes that are not TLS', (t) => {
  t.deepEqual(unrecognizedNameAlert(), Buffer.from([21, 3, 3, 0, 2, 2, 112]));
  t.deepEqual(alertForRefusal('malformed'), tlsAlert(50));
  t.deepEqual(alertForRefusal('no-sni'), tlsAlert(40));
  t.deepEqual(alertForRefusal('too-large'), tlsAlert(40));
  t.is(alertForRefusal('not-tls'), undefined);
});
