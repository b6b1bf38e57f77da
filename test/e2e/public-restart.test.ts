/**
 * Public ingress heals like everything else: a relay restarted on the same ports gets the skeleton's
 * publications again at its re-advertise, and the public port serves again, with no step by anyone.
 */
import test from 'ava';
import { startRelay } from '../../relay/index.js';
import type { AdvertiseResult } from '../../skeleton/index.js';
import { echoThrough } from '../helpers/public-net.js';
import { echoServer, privateLoopback, startTestSkeleton, startWorld, type UserSpec } from '../helpers/world.js';

const USERS: Record<string, UserSpec> = { home: { roles: ['skeleton'], serve: ['home-*'], publish: ['tcp:20000-20099'] } };


test('the relay restarted on the same ports: the running skeleton publishes again and the public port serves again', async (t) => {
  // The relay's own ports on a loopback address of this test's own too: on 127.0.0.1 a parallel test's
  // port-0 listener could take the port between the stop and the restart. And the skeleton port below
  // the ephemeral range (32768-60999 here): a port-0 one is in it, and the skeleton's reconnect while the
  // relay is away can pick that very port as its source and connect to itself (TCP simultaneous open),
  // holding it (CI: EADDRINUSE at the restart).
  const host = privateLoopback();
  const world = await startWorld(t, { users: USERS, relay: { host, skeletonPort: 21033, publicHost: host, publicPorts: '20000-20099' } });
  const echo = await echoServer(t);
  const skeleton = await startTestSkeleton(t, world, [{ id: 'home-echo', host: '127.0.0.1', port: echo.port, description: '', protocol: 'tcp', publications: [{ server: 'home-echo', url: 'tcp://:20033' }] }]);
  await world.relay.ingress.listening('tcp://:20033');
  t.is(await echoThrough(host, 20033, 'before'), 'before');
  // A planned stop: the relay says Goodbye, the skeleton comes back after it (no 'disconnected' for that).
  await world.relay.close({ drainMs: 0 });
  const readvertised = new Promise<AdvertiseResult>((resolve) => skeleton.runtime.on('advertised', (r) => { if (r.published.length > 0) resolve(r); }));
  const again = await startRelay({
    host, clientPort: 0, skeletonPort: world.relay.addresses.skeleton.port, admin: 'off', identity: world.identity, usersFile: world.usersFile,
    publicHost: host, publicPorts: '20000-20099',
  });
  t.teardown(() => again.close({ drainMs: 0 }));
  t.deepEqual((await readvertised).published, ['tcp://:20033']);
  await again.ingress.listening('tcp://:20033');
  t.is(await echoThrough(host, 20033, 'after'), 'after');
});
