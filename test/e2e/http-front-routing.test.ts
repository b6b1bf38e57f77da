/** The public HTTP front routes each request by its own Host, even on one keep-alive connection. */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import test from 'ava';
import { backend, closed, curl, frontFor, rawExchange } from '../helpers/http-front-world.js';

test('two hosts on one keep-alive connection: one connection, each request at its own backend', async (t) => {
  const a = await backend(t, 'A');
  const b = await backend(t, 'B');
  const world = await frontFor(t, { 'a.example.test': { port: a.port }, 'b.example.test': { port: b.port } });
  // One curl, three transfers to the same address with different Host headers: curl keeps one
  // connection (it keys its cache on the URL's host, so --resolve with two names would open two).
  const transfer = (host: string, path: string) => ['-w', 'connects=%{num_connects}\n', '-H', `Host: ${host}`, `http://127.0.0.1:${world.port}${path}`];
  const result = await curl([
    ...transfer('a.example.test', '/one'), '--next', ...transfer('b.example.test', '/two'), '--next', ...transfer('a.example.test', '/three'),
  ]);
  t.is(result.code, 0, result.stderr);
  // curl reuses its connection across the URLs: the two later transfers made no new connection.
  t.is(result.stdout, 'A GET /one\nconnects=1\nB GET /two\nconnects=0\nA GET /three\nconnects=0\n');
  t.deepEqual(a.seen.map((r) => [r.host, r.url]), [['a.example.test', '/one'], ['a.example.test', '/three']]);
  t.deepEqual(b.seen.map((r) => [r.host, r.url]), [['b.example.test', '/two']]);
  // A's two requests shared one upstream stream (keep-alive reuse within the public connection).
  t.is(a.seen[0]!.conn, a.seen[1]!.conn);
  t.deepEqual(Object.fromEntries(world.opened), { 'a.example.test': 1, 'b.example.test': 1 });
});

test('two public clients never share an upstream stream', async (t) => {
  const a = await backend(t, 'A');
  const world = await frontFor(t, { 'a.example.test': { port: a.port } });
  const args = ['-H', 'Host: a.example.test', `http://127.0.0.1:${world.port}/x`];
  t.is((await curl(args)).stdout, 'A GET /x\n');
  t.is((await curl(args)).stdout, 'A GET /x\n');
  t.is(a.seen.length, 2);
  t.not(a.seen[0]!.conn, a.seen[1]!.conn);
});

test('host matching: case, port, trailing dot, one-label wildcard, exact before wildcard', async (t) => {
  const exact = await backend(t, 'EXACT');
  const wild = await backend(t, 'WILD');
  const world = await frontFor(t, { 'www.home.test': { port: exact.port }, '*.home.test': { port: wild.port } });
  const get = async (host: string) => (await curl(['-H', `Host: ${host}`, `http://127.0.0.1:${world.port}/`])).stdout;
  t.is(await get('WWW.Home.Test:8080'), 'EXACT GET /\n');
  t.is(await get('www.home.test.'), 'EXACT GET /\n');
  t.is(await get('blog.home.test'), 'WILD GET /\n');
  t.regex(await get('a.b.home.test'), /^<!doctype html>.*404 Not Found/s);
  t.regex(await get('home.test'), /404 Not Found/);
});

test('unknown host: 404 page naming nothing internal, and the connection lives on', async (t) => {
  const a = await backend(t, 'A');
  const world = await frontFor(t, { 'a.example.test': { port: a.port } });
  const result = await curl([
    '-w', '%{http_code} connects=%{num_connects}\n',
    '-H', 'Host: nobody.example.test', `http://127.0.0.1:${world.port}/`,
    '--next', '-w', '%{http_code} connects=%{num_connects}\n', '-H', 'Host: a.example.test', `http://127.0.0.1:${world.port}/`,
  ]);
  t.regex(result.stdout, /404 Not Found.*\n404 connects=1\nA GET \/\n200 connects=0\n$/s);
  t.notRegex(result.stdout, /a\.example\.test|127\.0\.0\.1|ERR_|at /);
});

test('unknown host with a body on its way: 404 and close, the body is not read', async (t) => {
  const world = await frontFor(t, {});
  const answer = await rawExchange(world.port, 'POST / HTTP/1.1\r\nHost: nobody.example.test\r\nContent-Length: 1000000000\r\n\r\nxx');
  t.regex(answer, /^HTTP\/1\.1 404 [\s\S]*Connection: close\r\n/);
});

test('offline home server: 502 page that names nothing internal, then close', async (t) => {
  const world = await frontFor(t, { 'off.example.test': { port: undefined } });
  const answer = await rawExchange(world.port, 'GET / HTTP/1.1\r\nHost: off.example.test\r\n\r\n');
  t.regex(answer, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
  t.regex(answer, /Connection: close/i);
  t.notRegex(answer, /ERR_|unreachable|offline in this test|off\.example|127\.0\.0\.1/);
  t.is(world.front.stats().badGateway, 1);
});

test('home server dies before answering: 502', async (t) => {
  const a = await backend(t, 'A', (req) => req.socket.destroy());
  const world = await frontFor(t, { 'a.example.test': { port: a.port } });
  const answer = await rawExchange(world.port, 'GET / HTTP/1.1\r\nHost: a.example.test\r\n\r\n');
  t.regex(answer, /^HTTP\/1\.1 502 /);
});

test('absolute-form target naming another host than Host is refused; agreeing one goes in origin form', async (t) => {
  const a = await backend(t, 'A');
  const world = await frontFor(t, { 'a.example.test': { port: a.port } });
  const bad = await rawExchange(world.port, 'GET http://admin.internal/ HTTP/1.1\r\nHost: a.example.test\r\nConnection: close\r\n\r\n');
  t.regex(bad, /^HTTP\/1\.1 400 /);
  const good = await rawExchange(world.port, 'GET http://a.example.test/p?q=1 HTTP/1.1\r\nHost: a.example.test\r\nConnection: close\r\n\r\n');
  t.regex(good, /A GET \/p\?q=1/);
  t.deepEqual(a.seen.map((r) => r.url), ['/p?q=1']);
});

test('missing Host: HTTP/1.0 and HTTP/1.1 both get 400', async (t) => {
  const world = await frontFor(t, {});
  t.regex(await rawExchange(world.port, 'GET / HTTP/1.0\r\n\r\n'), /^HTTP\/1\.1 400 /);
  t.regex(await rawExchange(world.port, 'GET / HTTP/1.1\r\n\r\n'), /^HTTP\/1\.1 400 /);
});

test('two Host headers get 400 and reach no home server (the home might route by the last)', async (t) => {
  const a = await backend(t, 'A');
  const b = await backend(t, 'B');
  const world = await frontFor(t, { 'a.example.test': { port: a.port }, 'b.example.test': { port: b.port } });
  t.regex(await rawExchange(world.port, 'GET / HTTP/1.1\r\nHost: a.example.test\r\nhost: b.example.test\r\n\r\n'), /^HTTP\/1\.1 400 /);
  t.regex(await rawExchange(world.port, 'GET / HTTP/1.1\r\nHost: a.example.test\r\nHost: a.example.test\r\n\r\n'), /^HTTP\/1\.1 400 /);
  t.is(a.seen.length + b.seen.length, 0);
});

test('pipelined requests for two hosts: answered in order, each by its own backend', async (t) => {
  const a = await backend(t, 'A');
  const b = await backend(t, 'B');
  const world = await frontFor(t, { 'a.example.test': { port: a.port }, 'b.example.test': { port: b.port } });
  const answer = await rawExchange(world.port,
    'GET /1 HTTP/1.1\r\nHost: a.example.test\r\n\r\nGET /2 HTTP/1.1\r\nHost: b.example.test\r\n\r\nGET /3 HTTP/1.1\r\nHost: a.example.test\r\nConnection: close\r\n\r\n');
  t.deepEqual([...answer.matchAll(/[AB] GET \/\d/g)].map((m) => m[0]), ['A GET /1', 'B GET /2', 'A GET /3']);
  t.deepEqual(b.seen.map((r) => r.url), ['/2']);
  t.deepEqual(Object.fromEntries(world.opened), { 'a.example.test': 1, 'b.example.test': 1 });
});

for (const shape of ['socket', 'duplex'] as const) {
  test(`many requests on one keep-alive connection reuse one upstream ${shape} without piling up listeners`, async (t) => {
    const a = await backend(t, 'A');
    const world = await frontFor(t, { 'a.example.test': { port: a.port } }, {}, shape);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    t.teardown(() => agent.destroy());
    for (let i = 0; i < 200; i++) {
      const req = http.get({ port: world.port, host: '127.0.0.1', agent, path: `/${i}`, headers: { host: 'a.example.test' } });
      const [res] = (await once(req, 'response')) as [http.IncomingMessage];
      res.resume();
      await once(res, 'end');
    }
    t.is(a.seen.length, 200);
    t.is(world.upstreams.length, 1);
    t.true(world.upstreams[0]!.listenerCount('error') < 5, `${world.upstreams[0]!.listenerCount('error')} error listeners`);
  });
}

test('a broker that throws instead of rejecting, or a lookup that throws, answers 502 / 404 and nothing crashes', async (t) => {
  const throwingOpen = await frontFor(t, { 'a.example.test': { port: 1 } }, {
    open: () => {
      throw new Error('broker bug');
    },
  });
  const request = 'GET / HTTP/1.1\r\nHost: a.example.test\r\n\r\n';
  t.regex(await rawExchange(throwingOpen.port, request), /^HTTP\/1\.1 502 /);
  const upgrade = 'GET / HTTP/1.1\r\nHost: a.example.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';
  t.regex(await rawExchange(throwingOpen.port, upgrade), /^HTTP\/1\.1 502 /);
  const throwingResolve = await frontFor(t, {}, {
    resolve: () => {
      throw new Error('lookup bug');
    },
  });
  t.regex(await rawExchange(throwingResolve.port, request, (text) => text.includes('</html>')), /^HTTP\/1\.1 404 /);
});

test('close() ends open public connections and refuses new ones', async (t) => {
  const a = await backend(t, 'A');
  const world = await frontFor(t, { 'a.example.test': { port: a.port } });
  const idle = net.connect({ port: world.port, host: '127.0.0.1' });
  idle.on('error', () => undefined);
  const first = new Promise<void>((resolve) => idle.once('data', () => resolve()));
  idle.write('GET / HTTP/1.1\r\nHost: a.example.test\r\n\r\n');
  await first;
  await world.front.close();
  await closed(idle);
  t.is(await rawExchange(world.port, 'GET / HTTP/1.1\r\nHost: a.example.test\r\n\r\n'), '');
  t.is(world.front.stats().connections, 1);
});
