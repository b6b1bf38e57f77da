/**
 * UDP heals like TCP (issue 17): the relay restarted on the same ports, the running skeleton advertises
 * and publishes again, the running client forwarder logs in again, and flows simply start again, both
 * through the forwarder and on the public udp port.
 */
import test from 'ava';
import { connect } from '../../client/index.js';
import { startUdpForwarder } from '../../client/io/udp-forwarder.js';
import { startRelay } from '../../relay/index.js';
import { silentLogger } from '../../shared/log.js';
import { Redacted } from '../../shared/redacted.js';
import type { AdvertiseResult } from '../../skeleton/index.js';
import { stateReaches } from '../helpers/state-wait.js';
import { udpApp, udpEcho } from '../helpers/udp.js';
import { newSecret, PASSWORD, privateLoopback, server, startTestSkeleton, startWorld, type UserSpec } from '../helpers/world.js';

const PORT = 20_153;
const USERS: Record<string, UserSpec> = {
  alice: { roles: ['client'], access: ['*'] },
  home: { roles: ['skeleton'], serve: ['home-*'], publish: [`udp:${PORT}`] },
};

test('the relay restarted on the same ports: forwarder flows and public flows start again', async (t) => {
  // The relay's ports on a loopback address of this test's own, so nothing else takes them between the
  // stop and the restart, and below the ephemeral range, so a peer reconnecting meanwhile cannot pick one
  // as its source port and connect to itself (see public-restart.test.ts).
  const host = privateLoopback();
  const world = await startWorld(t, { users: USERS, relay: { host, clientPort: 21034, skeletonPort: 21035, publicHost: host, publicPorts: `${PORT}` } });
  const echo = await udpEcho(t);
  const secret = newSecret();
  const url = `udp://:${PORT}`;
  const skeleton = await startTestSkeleton(t, world, [server('home-dns', echo.port, secret, { protocol: 'udp', transport: 'udp', publications: [{ server: 'home-dns', url }] })]);
  const client = await connect({ relay: world.clientTarget, user: 'alice', password: new Redacted(PASSWORD), keepAlive: true });
  t.teardown(() => client.close());
  const forwarder = await startUdpForwarder({ client, serverId: 'home-dns', secret, host: '127.0.0.1', port: 0, log: silentLogger() });
  t.teardown(() => forwarder.close());
  const [local, remote] = [await udpApp(t), await udpApp(t)];
  await world.relay.ingress.listening(url);
  t.is((await local.ask(forwarder.address.port, Buffer.from('before'))).toString(), 'before');
  const askPublic = (text: string): Promise<string> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no public answer')), 10_000);
    remote.socket.once('message', (msg) => {
      clearTimeout(timer);
      resolve(msg.toString());
    });
    remote.socket.send(Buffer.from(text), PORT, host);
  });
  t.is(await askPublic('public before'), 'public before');

  await world.relay.close({ drainMs: 0 });
  t.true(await stateReaches(() => forwarder.stats().active === 0 && skeleton.udp.totals().active === 0), 'the flows ended with the relay');
  const readvertised = new Promise<AdvertiseResult>((resolve) => skeleton.runtime.on('advertised', (r) => { if (r.published.length > 0) resolve(r); }));
  const again = await startRelay({
    host, clientPort: world.relay.addresses.client.port, skeletonPort: world.relay.addresses.skeleton.port, admin: 'off', identity: world.identity,
    usersFile: world.usersFile, publicHost: host, publicPorts: `${PORT}`,
  });
  t.teardown(() => again.close({ drainMs: 0 }));
  t.deepEqual((await readvertised).published, [url]);
  // The forwarder's client is logged in again once it lists (its requests wait for the new session).
  t.deepEqual((await client.list()).map((s) => s.protocol), ['udp']);
  t.is((await local.ask(forwarder.address.port, Buffer.from('after'))).toString(), 'after');
  await again.ingress.listening(url);
  t.is(await askPublic('public after'), 'public after');
  t.is(forwarder.stats().total, 2, 'a new flow from the same source');
});
