/**
 * Publications in a relay cluster: every relay listens for every publication its skeletons advertise and
 * serves a public connection through its own session of the skeleton (bytes never cross relays), and a
 * url is owned cluster-wide, as ids are (S9): taken by one account at any relay, refused to every other.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:https';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { KEYS } from '../../relay/cluster/cluster-keys.js';
import type { StreamAudit } from '../../relay/index.js';
import { clusterSkeleton, startClusterWorld } from '../helpers/cluster-world.js';
import { echoThrough, refusedConnect } from '../helpers/public-net.js';
import { selfSigned } from '../helpers/self-signed.js';
import { stateReaches } from '../helpers/state-wait.js';
import { echoServer, privateLoopback, tempDir, type UserSpec } from '../helpers/world.js';

const run = promisify(execFile);
const USERS: Record<string, UserSpec> = {
  home: { roles: ['skeleton'], serve: ['home-*'], publish: ['tcp:20000-20099', '*.home.example.net'] },
  other: { roles: ['skeleton'], serve: ['other-*'], publish: ['tcp:20000-20099'] },
};
const NAME = 'www.home.example.net';

/** Two relays in a cluster, each binding its public listeners on a loopback address of its own. */
async function publicCluster(t: import('ava').ExecutionContext) {
  const hosts = [privateLoopback(), privateLoopback()];
  const w = await startClusterWorld(t, 2, { users: USERS, relay: (i) => ({ publicHost: hosts[i]!, publicPorts: '20000-20099', httpPort: 8080, httpsPort: 8443 }) });
  const audits = w.relays.map((r) => {
    const seen: StreamAudit[] = [];
    r.relay.on('stream-closed', (a) => seen.push(a));
    return seen;
  });
  return { w, hosts, audits };
}

async function plainWeb(t: import('ava').ExecutionContext): Promise<{ port: number }> {
  const server = createHttpServer((req, res) => res.end(`plain hello, ${req.headers.host}\n`));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  return { port: (server.address() as AddressInfo).port };
}

function echoPublication(port: number, url: string) {
  return { id: 'home-echo', host: '127.0.0.1', port, description: '', protocol: 'tcp', publications: [{ server: 'home-echo', url }] };
}

test('every relay serves every publication (tcp, https, http): a public connection at each relay reaches home through that relay\'s own session of the skeleton', async (t) => {
  const { w, hosts, audits } = await publicCluster(t);
  const echo = await echoServer(t);
  const dir = await tempDir(t);
  const { key, cert, certFile } = await selfSigned(dir, [NAME]);
  const tls = createServer({ key, cert }, (req, res) => res.end(`hello from home, ${req.headers.host}\n`));
  tls.listen(0, '127.0.0.1');
  await once(tls, 'listening');
  t.teardown(() => tls.close());
  const web = await plainWeb(t);
  const skeleton = await clusterSkeleton(t, w.relays, [
    echoPublication(echo.port, 'tcp://:20051'),
    { id: 'home-tls', host: '127.0.0.1', port: (tls.address() as AddressInfo).port, description: '', protocol: 'https', publications: [{ server: 'home-tls', url: `https://${NAME}` }] },
    { id: 'home-web', host: '127.0.0.1', port: web.port, description: '', protocol: 'http', publications: [{ server: 'home-web', url: `http://${NAME}` }] },
  ]);
  t.is(skeleton.runtimes.length, 2);
  for (const r of w.relays) {
    await r.relay.ingress.listening('tcp://:20051');
    for (const kind of ['https', 'http'] as const) t.true(await stateReaches(() => r.relay.runtime.core.state.publications.resolveHost(kind, NAME) !== undefined), `${kind} at ${r.id}`);
  }
  t.is(await echoThrough(hosts[0]!, 20051, 'public at A'), 'public at A');
  t.is(await echoThrough(hosts[1]!, 20051, 'public at relay B'), 'public at relay B');
  for (const [i, host] of hosts.entries()) {
    const { stdout } = await run('curl', ['-sS', '--fail', '--cacert', certFile, '--resolve', `${NAME}:8443:${host}`, `https://${NAME}:8443/`]);
    t.is(stdout, `hello from home, ${NAME}:8443\n`, `through relay ${i}`);
    const plain = await run('curl', ['-sS', '--fail', '--resolve', `${NAME}:8080:${host}`, `http://${NAME}:8080/`]);
    t.is(plain.stdout, `plain hello, ${NAME}:8080\n`, `http through relay ${i}`);
  }
  t.is(echo.connections(), 2);
  // Each relay's audit holds its own public streams, bytes and all: the stream was joined there, to that relay's session.
  t.true(await stateReaches(() => audits.every((a) => a.length === 3)));
  for (const [i, text] of ['public at A', 'public at relay B'].entries()) {
    const tcp = audits[i]!.filter((a) => a.publication === 'tcp://:20051');
    t.is(tcp.length, 1);
    t.is(tcp[0]!.bytesClientToServer, text.length);
    t.regex(tcp[0]!.source ?? '', /^127\.\d+\.\d+\.\d+:\d+$/);
    for (const kind of ['https', 'http']) t.is(audits[i]!.filter((a) => a.publication === `${kind}://${NAME}`).length, 1, kind);
  }
  // No relay asked another for a dial: each had the skeleton's session at hand.
  for (const r of w.relays) t.is(r.relay.runtime.core.state.ticketed.size, 0);
});

test('a publication is owned cluster-wide: another account is refused it at another relay, and may have it once the owner lets go everywhere', async (t) => {
  const { w, hosts } = await publicCluster(t);
  const [a, b] = [w.relays[0]!, w.relays[1]!];
  const echo = await echoServer(t);
  const home = await clusterSkeleton(t, [a], [echoPublication(echo.port, 'tcp://:20050')]);
  t.deepEqual(home.advertised.published, ['tcp://:20050']);
  await a.relay.ingress.listening('tcp://:20050');
  const otherServers = [{ ...echoPublication(echo.port, 'tcp://:20050'), id: 'other-echo', publications: [{ server: 'other-echo', url: 'tcp://:20050' }, { server: 'other-echo', url: 'tcp://:20052' }] }];
  const other = await clusterSkeleton(t, [b], otherServers, { user: 'other' });
  t.deepEqual(other.advertised.unpublished, [{ url: 'tcp://:20050', code: 'ERR_PUBLICATION_TAKEN' }]);
  t.deepEqual(other.advertised.published, ['tcp://:20052']);
  // B never opened the port for it, nor routes to it; A's stays home's.
  t.is(b.relay.runtime.core.state.publications.get('tcp://:20050'), undefined);
  t.is(await refusedConnect(hosts[1]!, 20050), 'ECONNREFUSED');
  t.is(await echoThrough(hosts[0]!, 20050, 'still home'), 'still home');
  // Home goes away: once A has withdrawn it from the cluster, the url is free for `other`.
  await home.close();
  t.true(await stateReaches(() => a.relay.runtime.core.state.publications.get('tcp://:20050') === undefined));
  await a.relay.ingress.closed('tcp://:20050');
  const published = new Promise<string[]>((resolve) => other.runtime.on('advertised', (r) => r.published.includes('tcp://:20050') && resolve(r.published)));
  // Ask again on every sync of A until the cluster says yes (each sync after the release frees the owner key).
  const ask = (): void => other.runtime.setServers(otherServers);
  a.relay.cluster!.link.on('synced', ask);
  t.teardown(() => a.relay.cluster!.link.off('synced', ask));
  t.deepEqual((await published).sort(), ['tcp://:20050', 'tcp://:20052']);
  await b.relay.ingress.listening('tcp://:20050');
  t.is(await echoThrough(hosts[1]!, 20050, 'now other'), 'now other');
});

test('while Redis is down a new publication is refused for now, never listened to, and published once Redis returns (the skeleton asks again)', async (t) => {
  const { w, hosts } = await publicCluster(t);
  const a = w.relays[0]!;
  await Promise.all([w.redis.stop(), once(a.relay.cluster!.link, 'down')]);
  const echo = await echoServer(t);
  const skeleton = await clusterSkeleton(t, [a], [echoPublication(echo.port, 'tcp://:20053')]);
  t.deepEqual(skeleton.advertised.unpublished, [{ url: 'tcp://:20053', code: 'ERR_CLUSTER_UNAVAILABLE' }]);
  t.is(a.relay.runtime.core.state.publications.get('tcp://:20053'), undefined);
  t.is(await refusedConnect(hosts[0]!, 20053), 'ECONNREFUSED');
  const published = new Promise<void>((resolve) => skeleton.runtime.on('advertised', (r) => r.published.includes('tcp://:20053') && resolve()));
  await w.redis.restart();
  await published;
  await a.relay.ingress.listening('tcp://:20053');
  t.is(await echoThrough(hosts[0]!, 20053, 'back'), 'back');
});

test('a url another account got in Redis meanwhile (say, while this relay could not reach it) is withdrawn here at the next sync', async (t) => {
  const { w, hosts } = await publicCluster(t);
  const a = w.relays[0]!;
  const echo = await echoServer(t);
  const home = await clusterSkeleton(t, [a], [echoPublication(echo.port, 'tcp://:20054')]);
  await a.relay.ingress.listening('tcp://:20054');
  const redis = new Redis(w.redis.url);
  t.teardown(() => redis.disconnect());
  const withdrawn = once(home.runtime, 'unpublished');
  await redis.set(`${KEYS.publicationOwnerPrefix}tcp://:20054`, 'other');
  t.deepEqual((await withdrawn)[0], [{ url: 'tcp://:20054', code: 'ERR_PUBLICATION_TAKEN' }]);
  await a.relay.ingress.closed('tcp://:20054');
  t.is(await refusedConnect(hosts[0]!, 20054), 'ECONNREFUSED');
  t.is(await redis.get(`${KEYS.publicationOwnerPrefix}tcp://:20054`), 'other');
});
