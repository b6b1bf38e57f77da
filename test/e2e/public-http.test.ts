/**
 * The shared HTTP port end to end: relay, skeleton and home web servers; curl and Node's own client as
 * the public. Routing per request on one keep-alive connection, WebSocket through the whole path, the
 * relay's own 403/404/502 pages, and forwarding headers only for the publication that asks.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { promisify } from 'node:util';
import type { SkeletonServer } from '../../skeleton/index.js';
import { privateLoopback, startTestSkeleton, startWorld, writeUsers, type UserSpec } from '../helpers/world.js';

const exec = promisify(execFile);
const USERS: Record<string, UserSpec> = { home: { roles: ['skeleton'], serve: ['home-*'], publish: ['*.home.example.net'] } };

/** A home web server that answers with its name and the headers it got, and echoes WebSocket-style upgrades. */
async function homeWeb(t: ExecutionContext, name: string): Promise<{ port: number; hosts: string[] }> {
  const hosts: string[] = [];
  const server = http.createServer((req, res) => {
    hosts.push(req.headers.host ?? '');
    res.end(JSON.stringify({ name, xff: req.headers['x-forwarded-for'] ?? null, forwarded: req.headers.forwarded ?? null }));
  });
  server.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
    socket.on('error', () => socket.destroy());
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => { server.closeAllConnections(); server.close(); });
  return { port: (server.address() as AddressInfo).port, hosts };
}

function site(id: string, port: number, url: string, extra: Partial<SkeletonServer['publications'] & object>[number] | object = {}): SkeletonServer {
  return { id, host: '127.0.0.1', port, description: '', protocol: 'http', publications: [{ server: id, url, ...extra }] };
}

async function world(t: ExecutionContext) {
  const host = privateLoopback();
  const w = await startWorld(t, { users: USERS, relay: { publicHost: host, httpPort: 8080 } });
  const www = await homeWeb(t, 'www');
  const blog = await homeWeb(t, 'blog');
  await startTestSkeleton(t, w, [
    site('home-www', www.port, 'http://www.home.example.net', { forwarded: true }),
    site('home-blog', blog.port, 'http://*.home.example.net', { deny: ['10.0.0.0/8'] }),
    site('home-private', blog.port, 'http://private.home.example.net', { allow: ['10.0.0.0/8'] }),
    site('home-down', 1, 'http://down.home.example.net'),
  ]);
  return { w, host, www, blog };
}

test('curl sends three hosts over one keep-alive connection: each request reaches its own home server, or the relay\'s 403', async (t) => {
  const { host, www, blog } = await world(t);
  // One URL, so curl reuses its connection; each request names its own Host.
  const request = (name: string) => ['-H', `Host: ${name}.home.example.net`, '-w', '|%{http_code} connects=%{num_connects}\\n', `http://${host}:8080/${name}`];
  const { stdout } = await exec('curl', ['-sS', ...request('www'), '--next', ...request('other'), '--next', ...request('private')]);
  const answers = stdout.split(/(?<=connects=\d)\n/);
  t.regex(answers[0]!, /"name":"www".*\|200 connects=1$/s);
  // The later requests rode the same public connection (no new connect) and were routed by their own Host:
  // the wildcard's server, then a name whose allow list leaves this source out.
  t.regex(answers[1]!, /"name":"blog".*\|200 connects=0$/s);
  t.regex(answers[2]!, /403 Forbidden.*\|403 connects=0$/s);
  t.deepEqual(www.hosts, ['www.home.example.net'], 'www never saw the other hosts\' requests');
  t.deepEqual(blog.hosts, ['other.home.example.net'], 'the allow list kept the last request away from home');
});

test('forwarding headers only where the publication asks, and a spoofed X-Forwarded-For is replaced', async (t) => {
  const { host } = await world(t);
  const { stdout } = await exec('curl', ['-sS', '--interface', '127.0.0.1', '-H', 'X-Forwarded-For: 6.6.6.6', '--resolve', `www.home.example.net:8080:${host}`, 'http://www.home.example.net:8080/']);
  const got = JSON.parse(stdout) as { xff: string; forwarded: string };
  t.is(got.xff, '127.0.0.1');
  t.regex(got.forwarded, /for=127\.0\.0\.1/);
});

test('the relay answers unknown names with 404 and an unreachable home server with 502, naming nothing internal', async (t) => {
  const { host } = await world(t);
  const notFound = await exec('curl', ['-sS', '-w', '%{http_code}', '--resolve', `nobody.example.org:8080:${host}`, 'http://nobody.example.org:8080/']);
  t.true(notFound.stdout.endsWith('404'));
  const down = await exec('curl', ['-sS', '-w', '%{http_code}', '--resolve', `down.home.example.net:8080:${host}`, 'http://down.home.example.net:8080/']);
  t.true(down.stdout.endsWith('502'));
  for (const page of [notFound.stdout, down.stdout]) t.false(/home-|127\.0\.0\.1|skeleton|ERR_/.test(page), page);
});

test('a WebSocket upgrade goes through relay and skeleton and echoes both ways', async (t) => {
  const { host } = await world(t);
  const req = http.request({ host, port: 8080, path: '/ws', headers: { Host: 'www.home.example.net', Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
  req.end();
  const [res, socket] = (await once(req, 'upgrade')) as [IncomingMessage, Socket];
  t.is(res.statusCode, 101);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const payload = Buffer.alloc(200_000, 9);
  socket.end(payload);
  await once(socket, 'end');
  t.true(Buffer.concat(chunks).equals(payload));
});

test('a name whose skeleton has just left gets 503 with Retry-After, not 404, until a skeleton serves it again; an unknown name still gets 404', async (t) => {
  const host = privateLoopback();
  const w = await startWorld(t, { users: USERS, relay: { publicHost: host, httpPort: 8080 } });
  const www = await homeWeb(t, 'www');
  const first = await startTestSkeleton(t, w, [site('home-www', www.port, 'http://www.home.example.net')]);
  const ask = (name: string) => exec('curl', ['-sS', '-o', '/dev/null', '-D', '-', '-H', `Host: ${name}`, `http://${host}:8080/`]).then((r) => r.stdout);
  t.regex(await ask('www.home.example.net'), /^HTTP\/1\.1 200 /);
  await first.close({ drainMs: 5_000 }); // a graceful stop: the name is withdrawn at once
  const gone = await ask('www.home.example.net');
  t.regex(gone, /^HTTP\/1\.1 503 /);
  t.regex(gone, /^Retry-After: 5\r$/m);
  t.regex(await ask('nothing.home.example.net'), /^HTTP\/1\.1 404 /);
  const refusals = w.relay.ingress.stats.get('http')?.refusals ?? {};
  t.like(refusals, { 'gone-for-now': 1, 'unknown-host': 1 }, 'the admin API tells the restarting name from an unknown one');
  const second = await startTestSkeleton(t, w, [site('home-www', www.port, 'http://www.home.example.net')]);
  t.regex(await ask('www.home.example.net'), /^HTTP\/1\.1 200 /);
  // An account disabled by the operator is not coming back: its names are 404 at once, not 503.
  const ended = new Promise<void>((resolve) => second.runtime.once('disconnected', () => resolve()));
  await writeUsers(w.usersFile, { home: { ...USERS.home!, disabled: true } });
  await w.relay.reloadUsers();
  await ended;
  t.regex(await ask('www.home.example.net'), /^HTTP\/1\.1 404 /);
});

test('a name whose skeleton left, then whose account was disabled, is 404 at once, no longer 503', async (t) => {
  const host = privateLoopback();
  const w = await startWorld(t, { users: USERS, relay: { publicHost: host, httpPort: 8080 } });
  const www = await homeWeb(t, 'www');
  const skeleton = await startTestSkeleton(t, w, [site('home-www', www.port, 'http://www.home.example.net')]);
  const ask = (name: string) => exec('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-H', `Host: ${name}`, `http://${host}:8080/`]).then((r) => r.stdout);
  await skeleton.close({ drainMs: 5_000 });
  t.is(await ask('www.home.example.net'), '503');
  await writeUsers(w.usersFile, { home: { ...USERS.home!, disabled: true } });
  await w.relay.reloadUsers();
  t.is(await ask('www.home.example.net'), '404');
});
