/**
 * Desync and amplification on the public HTTP port, found by an outside attack on the llhttp-driven
 * front: framing hidden past a header-count cut, a home server answering more than it was asked, bodies
 * on 204/304, and a read full of requests for unknown names. Raw sockets, no sleeps.
 */
import { once } from 'node:events';
import net from 'node:net';
import test from 'ava';
import { closed, frontFor, rawBackend, rawExchange, textClient } from '../helpers/http-front-world.js';

const ok = (body: string): string => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: a.example.test\r\n\r\n`;

test('a head of more than 1,000 header lines gets 431, and a Content-Length past the 1,000th smuggles nothing to the home server', async (t) => {
  const home = await rawBackend(t, (socket) => socket.write(ok('home')));
  const world = await frontFor(t, { 'a.example.test': { port: home.port } });
  const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: a.example.test\r\n\r\n';
  const head = `GET /outer HTTP/1.1\r\nHost: a.example.test\r\n${'a:\r\n'.repeat(1000)}Content-Length: ${smuggled.length}\r\n\r\n`;
  t.regex(await rawExchange(world.port, head + smuggled), /^HTTP\/1\.1 431 /);
  const chunked = `GET /outer HTTP/1.1\r\nHost: a.example.test\r\n${'a:\r\n'.repeat(1000)}Transfer-Encoding: chunked\r\n\r\n${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`;
  t.regex(await rawExchange(world.port, chunked), /^HTTP\/1\.1 431 /);
  t.deepEqual(home.heads, [], 'nothing reached the home server');
  t.is(world.front.stats().badRequest, 2);
  // 1,000 lines exactly are fine.
  const fine = `GET /fine HTTP/1.1\r\nHost: a.example.test\r\nConnection: close\r\n${'a: 1\r\n'.repeat(997)}\r\n`;
  t.regex(await rawExchange(world.port, fine), /^HTTP\/1\.1 200 OK[\s\S]*home$/);
});

test('a home server answering twice in one write: the client gets the first answer, and the next request its own from a fresh stream; the extra ones are dropped', async (t) => {
  const home = await rawBackend(t, (socket, conn, _n, head) => {
    if (head.startsWith('GET /double')) socket.write(ok('first') + ok('second') + ok('third'));
    else socket.write(ok(`plain from stream ${conn}`));
  });
  const world = await frontFor(t, { 'a.example.test': { port: home.port } });
  const text = await rawExchange(world.port, get('/double') + get('/next'), (s) => s.includes('plain'));
  t.regex(text, /^HTTP\/1\.1 200 OK[\s\S]*first(HTTP\/1\.1 200 OK[\s\S]*)plain from stream 1$/);
  t.false(/second|third/.test(text), 'neither extra answer is taken for /next');
  t.deepEqual(Object.fromEntries(world.opened), { 'a.example.test': 2 });
});

test('an extra answer in a later read is dropped with its stream; the next request is answered on a fresh one', async (t) => {
  const home = await rawBackend(t, (socket, conn, n) => {
    socket.write(ok(`answer ${n} on stream ${conn}`));
    if (conn === 0 && n === 0) setImmediate(() => socket.write(ok('stray')));
  });
  const world = await frontFor(t, { 'a.example.test': { port: home.port } });
  const client = await textClient(world.port);
  const { socket } = client;
  socket.write(get('/one'));
  await client.until((text) => text.endsWith('answer 0 on stream 0'));
  // The stray answer comes while nothing is asked: it is dropped with its stream, never queued.
  while (world.upstreams.length < 1 || !world.upstreams[0]!.destroyed) await once(world.upstreams[0]!, 'close');
  socket.write(get('/two'));
  await client.until((text) => text.includes('stream 1'));
  socket.destroy();
  t.false(client.text().includes('stray'));
  t.regex(client.text(), /answer 0 on stream 1$/);
});

test('204 and 304 have no body whatever their headers say: stray bytes after one are never an answer', async (t) => {
  const home = await rawBackend(t, (socket, _conn, _n, head) => {
    if (head.startsWith('GET /204')) socket.write('HTTP/1.1 204 No Content\r\nContent-Length: 40\r\n\r\n' + ok('smuggled answer').slice(0, 40));
    else if (head.startsWith('GET /304')) socket.write('HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n');
    else socket.write(ok('real'));
  });
  const world = await frontFor(t, { 'a.example.test': { port: home.port } });
  // The stray bytes after the 204 are an answer nobody asked for: its stream is dropped, and /next is
  // answered on a fresh one.
  const after204 = await rawExchange(world.port, get('/204') + get('/next'), (s) => s.endsWith('real'));
  t.regex(after204, /^HTTP\/1\.1 204 No Content\r\n[\s\S]*?\r\n\r\nHTTP\/1\.1 200 OK\r\n[\s\S]*real$/);
  t.false(after204.includes('smuggled'));
  // A 304 that states a length carries no body: the next request's answer follows at once.
  const text = await rawExchange(world.port, get('/304') + get('/next'), (s) => s.endsWith('real'));
  t.regex(text, /^HTTP\/1\.1 304 Not Modified\r\n[\s\S]*Content-Length: 1234\r\n[\s\S]*\r\n\r\nHTTP\/1\.1 200 OK[\s\S]*real$/);
});

test('a connection gets at most 32 of the relay\'s own pages, the last one saying close, however its requests for unknown names are spread', async (t) => {
  const world = await frontFor(t, {});
  for (const perWrite of [2000, 10]) {
    const client = await textClient(world.port);
    const request = 'GET / HTTP/1.1\r\nHost: x.nosuch\r\n\r\n';
    // 2,000 in one write, or 10 per write (the way that kept the kernel buffers full, unseen by backpressure).
    for (let sent = 0; sent < 2000 && !client.socket.closed; sent += perWrite) client.socket.write(request.repeat(perWrite));
    await closed(client.socket);
    const pages = client.text().split('HTTP/1.1 404 ').length - 1;
    t.true(pages <= 32, `${pages} pages for ${perWrite} per write`);
    t.regex(client.text(), /Connection: close\r\n[^]*$/);
  }
});

test('a body still arriving after its early answer goes to its own home server only, never ahead of the next request for another host', async (t) => {
  // A answers every request at once, without reading its body (as a 401 or a redirect does).
  const a = await rawBackend(t, (socket) => socket.write(ok('early from A')));
  const b = await rawBackend(t, (socket) => socket.write(ok('from B')));
  const world = await frontFor(t, { 'a.example.test': { port: a.port }, 'b.example.test': { port: b.port } });
  const client = await textClient(world.port);
  const { socket } = client;
  socket.write('POST /upload HTTP/1.1\r\nHost: a.example.test\r\nContent-Length: 26\r\n\r\nFIRST-HALF;');
  await client.until((text) => text.endsWith('early from A'));
  // The body's last 15 bytes and a request for B in one write.
  socket.write('SECRET-FOR-A!!!GET /next HTTP/1.1\r\nHost: b.example.test\r\n\r\n');
  await client.until((text) => text.endsWith('from B'));
  socket.destroy();
  t.deepEqual(b.heads.map((h) => h.split('\r\n')[0]), ['GET /next HTTP/1.1'], 'B saw its own request and nothing before it');
  t.false(b.heads[0]!.includes('SECRET'));
});

test('an upload whose answer came early is not cut by the head deadline while its body still arrives', async (t) => {
  const a = await rawBackend(t, (socket) => socket.write(ok('early')));
  const world = await frontFor(t, { 'a.example.test': { port: a.port } }, { headTimeoutMs: 200, keepAliveTimeoutMs: 200 });
  const client = await textClient(world.port);
  const { socket } = client;
  socket.write('POST /up HTTP/1.1\r\nHost: a.example.test\r\nContent-Length: 4\r\n\r\nab');
  await client.until((text) => text.endsWith('early'));
  // A sentinel connection that sends nothing, opened after the early answer: the head deadline cuts it
  // later than it would have cut the upload's connection, had that one been armed.
  const sentinel = net.connect({ port: world.port, host: '127.0.0.1' });
  sentinel.on('error', () => undefined);
  await closed(sentinel);
  t.false(socket.destroyed, 'still open while the body arrives');
  t.is(world.front.stats().headTimeouts, 1, 'the sentinel only');
  socket.write('cd');
  socket.write('GET /after HTTP/1.1\r\nHost: a.example.test\r\nConnection: close\r\n\r\n');
  await closed(socket);
  t.is(client.text().split('early').length - 1, 2);
});

test('a transfer coding other than chunked stays with the body (gzip, chunked), and a 1xx flood is cut', async (t) => {
  const home = await rawBackend(t, (socket, _conn, _n, head) => {
    if (head.startsWith('GET /gz')) socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    else socket.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n'.repeat(40) + ok('late'));
  });
  const world = await frontFor(t, { 'a.example.test': { port: home.port } });
  const gz = await rawExchange(world.port, get('/gz'), (s) => s.endsWith('0\r\n\r\n'));
  t.regex(gz, /\r\nTransfer-Encoding: gzip, chunked\r\n/);
  const flood = await rawExchange(world.port, get('/hints'));
  t.true(flood.split('103 Early Hints').length - 1 <= 16, 'at most sixteen hints relayed, then the cut');
  t.false(flood.includes('late'));
});

test('an answer whose head starts in the same read after the owed one is unsolicited even if it ends in a later read', async (t) => {
  // Stream 0 answers /one with an extra answer's first bytes behind it, and finishes that extra answer
  // only once a second request has come up the same stream: without the check, it would be its answer.
  const home = await rawBackend(t, (socket, conn, n) => {
    if (conn === 0 && n === 0) socket.write(ok('real') + 'HTTP/1.1 200 OK\r\nContent-Le');
    else if (conn === 0) socket.write('ngth: 4\r\n\r\nEVIL');
    else socket.write(ok(`answer ${n} on stream ${conn}`));
  });
  const world = await frontFor(t, { 'a.example.test': { port: home.port } });
  const client = await textClient(world.port);
  client.socket.write(get('/one'));
  await client.until((text) => text.endsWith('real'));
  client.socket.write(get('/two'));
  await client.until((text) => text.includes('on stream'));
  client.socket.destroy();
  t.false(client.text().includes('EVIL'));
  t.regex(client.text(), /answer 0 on stream 1$/);
});

test('an answer that runs until the home server closes reaches an HTTP/1.1 client chunked and whole at once, and the connection lives on', async (t) => {
  const home = await rawBackend(t, (socket, _conn, n) => {
    if (n === 0) socket.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the close');
  });
  const world = await frontFor(t, { 'a.example.test': { port: home.port } }, { keepAliveTimeoutMs: 60_000 });
  const client = await textClient(world.port);
  client.socket.write(get('/one'));
  // The last chunk comes with the close, not with the next request or the keep-alive timeout.
  await client.until((text) => text.endsWith('0\r\n\r\n'));
  t.regex(client.text(), /Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\nf\r\nuntil the close\r\n0\r\n\r\n$/);
  t.false(client.socket.closed);
  client.socket.destroy();
});
