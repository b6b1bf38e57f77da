/**
 * A peer aimed at something that is not a burrow relay port learns it at once (ERR_NOT_A_RELAY) instead
 * of after the greeting timeout: a server that speaks first with other bytes (SSH), and a silent HTTP
 * server such as the relay's own admin port, found by a probe on a second connection. A relay that is
 * merely slow to greet is not mistaken for one: the probe never touches the connection being greeted,
 * and leaves without a word once the relay greets it.
 */
import test from 'ava';
import { createServer as createHttpServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { login } from '../../shared/peer/peer-login.js';
import { greet } from '../../shared/peer/relay-greeting.js';
import { Redacted } from '../../shared/redacted.js';
import { listen } from '../helpers/loopback.js';
import { PASSWORD, startWorld } from '../helpers/world.js';

/** Long enough that a rejection before it proves the port was told apart, not timed out. */
const GREETING_TIMEOUT_MS = 60_000;
const FP = 'SHA256:' + 'A'.repeat(43);

test('a server that speaks first with something else is not a relay, at its first bytes', async (t) => {
  const port = await listen(t, (socket) => socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'));
  const err = await t.throwsAsync(greet({ host: '127.0.0.1', port, fingerprint: FP }, 'client', GREETING_TIMEOUT_MS));
  t.is((err as { code?: string }).code, 'ERR_NOT_A_RELAY');
  t.true(err?.message.includes('SSH-2.0-OpenSSH_9.2p1'), err?.message);
});

test('a silent HTTP server (an admin port) is found by the probe and named as HTTP', async (t) => {
  const http = createHttpServer((_req, res) => res.end('dashboard'));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    http.closeAllConnections();
    http.close();
  });
  const { port } = http.address() as AddressInfo;
  const err = await t.throwsAsync(greet({ host: '127.0.0.1', port, fingerprint: FP }, 'skeleton', GREETING_TIMEOUT_MS, { probe: true }));
  t.is((err as { code?: string }).code, 'ERR_NOT_A_RELAY');
  t.true(err?.message.includes('HTTP'), err?.message);
});

test('a relay slower to greet than the probe delay still logs in: the probe saw a Hello and left', async (t) => {
  const world = await startWorld(t);
  // A middle that holds back the relay's bytes on the first connection until a second one (the probe)
  // has come and gone, i.e. a relay that greets later than the probe delay.
  let connections = 0;
  let probeBytes = 0;
  let releaseFirst: () => void = () => undefined;
  const probeGone = new Promise<void>((resolve) => (releaseFirst = resolve));
  const port = await listen(t, (socket: Socket) => {
    const n = ++connections;
    const upstream = connect({ host: '127.0.0.1', port: world.relay.addresses.client.port });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
    socket.on('close', () => {
      upstream.destroy();
      if (n === 2) releaseFirst();
    });
    if (n === 2) socket.on('data', (chunk: Buffer) => (probeBytes += chunk.length));
    socket.pipe(upstream);
    if (n === 1) void probeGone.then(() => upstream.pipe(socket));
    else upstream.pipe(socket);
  });
  const session = await login({ host: '127.0.0.1', port, fingerprint: world.identity.fingerprint }, 'client', { user: 'alice', password: new Redacted(PASSWORD) }, GREETING_TIMEOUT_MS);
  t.teardown(() => session.channel.socket.destroy());
  t.is(connections, 2, 'the probe connection came, saw a relay and went');
  t.is(probeBytes, 0, 'it left before asking anything: a relay that greets charges no penalty for that');
  t.truthy(session.sid);
});
