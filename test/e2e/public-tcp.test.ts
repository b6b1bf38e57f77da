import test from 'ava';
import { once } from 'node:events';
import { connect as netConnect, createServer } from 'node:net';
import type { StreamAudit } from '../../relay/index.js';
import { Redacted } from '../../shared/redacted.js';
import { startSkeleton } from '../../skeleton/index.js';
import { echoThrough, refusedConnect } from '../helpers/public-net.js';
import { stateReaches } from '../helpers/state-wait.js';
import { connectTestClient, echoServer, newSecret, PASSWORD, privateLoopback, server, startTestSkeleton, startWorld, type UserSpec } from '../helpers/world.js';

const USERS: Record<string, UserSpec> = {
  alice: { roles: ['client'], access: ['*'] },
  home: { roles: ['skeleton'], serve: ['home-*'], publish: ['tcp:20000-20099', '*.home.example.net'] },
  other: { roles: ['skeleton'], serve: ['other-*'], publish: ['tcp:20000-20099'] },
};

test('a tcp publication: anyone reaches the home server on the relay public port, without a secret, and the audit line names the source', async (t) => {
  const host = privateLoopback();
  const world = await startWorld(t, { users: USERS, relay: { publicHost: host, publicPorts: '20000-20099' } });
  const echo = await echoServer(t);
  const audits: StreamAudit[] = [];
  world.relay.on('stream-closed', (a) => audits.push(a));
  const { secret: _unused, ...noSecret } = server('home-echo', echo.port, newSecret());
  const skeleton = await startTestSkeleton(t, world, [{ ...noSecret, publications: [{ server: 'home-echo', url: 'tcp://:20022' }] }]);
  t.deepEqual(skeleton.advertised.published, ['tcp://:20022']);
  await world.relay.ingress.listening('tcp://:20022');
  t.is(await echoThrough(host, 20022, 'hello public'), 'hello public');
  t.is(echo.connections(), 1);
  const closed = audits.length > 0 ? audits : [(await once(world.relay.runtime, 'stream-closed'))[0] as StreamAudit];
  t.is(closed[0]!.publication, 'tcp://:20022');
  t.regex(closed[0]!.source ?? '', /^127\.0\.0\.1:\d+$/);
  t.is(closed[0]!.bytesClientToServer, 'hello public'.length);
  // The operator sees it: the admin API, and Prometheus metrics per publication.
  const res = await fetch(`${world.relay.admin!.url}api/publications`);
  t.is(res.status, 200, await res.clone().text());
  const api = await res.json() as { publications: { url: string; server: string; account: string; connections: number }[] };
  t.like(api.publications.find((p) => p.url === 'tcp://:20022'), { server: 'home-echo', account: 'home', connections: 1 });
  const metrics = await (await fetch(`${world.relay.admin!.url}metrics`)).text();
  t.regex(metrics, /^burrow_public_connections_total\{publication="tcp:\/\/:20022"\} 1$/m);
  t.regex(metrics, /^burrow_public_bytes_total\{publication="tcp:\/\/:20022",direction="client_to_server"\} 12$/m);
  // Not listed to burrow clients, and not theirs to open: it has no secret.
  const client = await connectTestClient(t, world);
  t.deepEqual((await client.list()).map((s) => s.id), []);
});

test('publications are refused one by one: not granted, outside --public-ports, taken by another account; the rest keep working', async (t) => {
  const host = privateLoopback();
  const world = await startWorld(t, { users: USERS, relay: { publicHost: host, publicPorts: '20000-20049' } });
  const echo = await echoServer(t);
  const home = await startTestSkeleton(t, world, [{
    ...server('home-echo', echo.port, newSecret()),
    publications: [
      { server: 'home-echo', url: 'tcp://:20030' }, { server: 'home-echo', url: 'tcp://:20060' }, { server: 'home-echo', url: 'tcp://:25' },
      { server: 'home-echo', url: 'http://www.home.example.net' },
    ],
  }]);
  t.deepEqual(home.advertised.published, ['tcp://:20030']);
  t.deepEqual(home.advertised.unpublished, [
    { url: 'tcp://:20060', code: 'ERR_PORT_NOT_PUBLIC' }, { url: 'tcp://:25', code: 'ERR_PUBLISH_NOT_ALLOWED' }, { url: 'http://www.home.example.net', code: 'ERR_INGRESS_OFF' },
  ]);
  const other = await startSkeleton({
    relay: world.skeletonTarget, user: 'other', password: new Redacted(PASSWORD),
    servers: [{ ...server('other-echo', echo.port, newSecret()), publications: [{ server: 'other-echo', url: 'tcp://:20030' }, { server: 'other-echo', url: 'tcp://:20031' }] }],
  });
  t.teardown(() => other.close());
  t.deepEqual(other.advertised.unpublished, [{ url: 'tcp://:20030', code: 'ERR_PUBLICATION_TAKEN' }]);
  t.deepEqual(other.advertised.published, ['tcp://:20031']);
  await world.relay.ingress.listening('tcp://:20030');
  t.is(await echoThrough(host, 20030, 'still home'), 'still home');
});

test('a grant revoked in the users file closes the publication and cuts its connections; granted again, it is live again; the same account coming back takes its port over at once', async (t) => {
  const host = privateLoopback();
  const world = await startWorld(t, { users: USERS, relay: { publicHost: host, publicPorts: '20000-20099' } });
  const echo = await echoServer(t);
  const servers = [{ ...server('home-echo', echo.port, newSecret()), publications: [{ server: 'home-echo', url: 'tcp://:20040' }] }];
  const first = await startTestSkeleton(t, world, servers, { instance: 'a' });
  await world.relay.ingress.listening('tcp://:20040');
  // The same account and instance again (a skeleton restarted before the relay noticed): it holds the port too.
  const second = await startTestSkeleton(t, world, servers, { instance: 'a' });
  t.deepEqual(second.advertised.published, ['tcp://:20040']);
  await first.close();
  t.is(await echoThrough(host, 20040, 'after takeover'), 'after takeover');
  // A connection running when the grant goes is cut with it: the operator revoking means now.
  const running = netConnect({ host, port: 20040 });
  running.on('error', () => undefined);
  running.write('ping');
  await once(running, 'data');
  // Cut means reset: the public client must not take what it got for a whole stream.
  const cut = new Promise<string | undefined>((resolve) => {
    running.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
    running.once('close', () => resolve(undefined));
  });
  const withdrawn = once(second.runtime, 'unpublished');
  const { writeUsers } = await import('../helpers/world.js');
  await writeUsers(world.usersFile, { ...USERS, home: { roles: ['skeleton'], serve: ['home-*'] } });
  await world.relay.reloadUsers();
  t.deepEqual((await withdrawn)[0], [{ url: 'tcp://:20040', code: 'ERR_PUBLISH_NOT_ALLOWED' }]);
  await world.relay.ingress.closed('tcp://:20040');
  t.is(await refusedConnect(host, 20040), 'ECONNREFUSED');
  t.is(await cut, 'ECONNRESET');
  // Granted again: the publication the skeleton asked for goes live without it doing anything.
  await writeUsers(world.usersFile, USERS);
  await world.relay.reloadUsers();
  await world.relay.ingress.listening('tcp://:20040');
  t.is(await echoThrough(host, 20040, 'granted again'), 'granted again');
});

test('a tcp publication port the core asks to open twice is bound once, and one unlisten closes it for good', async (t) => {
  const host = privateLoopback();
  const world = await startWorld(t, { users: USERS, relay: { publicHost: host, publicPorts: '20000-20099' } });
  const ports = world.relay.runtime.publicPorts!;
  ports.listen('tcp://:20031', 20031);
  await world.relay.ingress.listening('tcp://:20031');
  // A second ask for a live url keeps the server there is (a second bind would orphan it, or fail).
  ports.listen('tcp://:20031', 20031);
  t.deepEqual(Object.keys(world.relay.ingress.addresses().tcp), ['tcp://:20031']);
  ports.unlisten('tcp://:20031', 20031);
  await world.relay.ingress.closed('tcp://:20031');
  t.is(await refusedConnect(host, 20031), 'ECONNREFUSED');
});

test('a public port another program holds: the publication is withdrawn with ERR_PORT_UNAVAILABLE, and the port is not ours to close', async (t) => {
  const host = privateLoopback();
  const squatter = createServer((socket) => socket.end('squatter\n'));
  await new Promise<void>((resolve) => squatter.listen(20044, host, resolve));
  t.teardown(() => squatter.close());
  const world = await startWorld(t, { users: USERS, relay: { publicHost: host, publicPorts: '20000-20099' } });
  const echo = await echoServer(t);
  const { secret: _unused, ...noSecret } = server('home-echo', echo.port, newSecret());
  const failed = t.throwsAsync(world.relay.ingress.listening('tcp://:20044'), { message: /address already in use/ });
  const skeleton = await startTestSkeleton(t, world, [{ ...noSecret, publications: [{ server: 'home-echo', url: 'tcp://:20044' }] }]);
  t.deepEqual(skeleton.advertised.published, ['tcp://:20044'], 'granted; the bind comes after');
  await failed;
  t.true(await stateReaches(() => world.relay.runtime.core.state.publications.get('tcp://:20044') === undefined), 'withdrawn');
  t.deepEqual(world.relay.ingress.addresses().tcp, {});
  // The squatter still has its port.
  const answer = await new Promise<string>((resolve) => netConnect(20044, host).once('data', (d) => resolve(d.toString())));
  t.is(answer, 'squatter\n');
});
