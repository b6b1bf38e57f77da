/** The public HTTP front's door: slowloris heads, garbage, oversized heads. Raw sockets, no sleeps. */
import { once } from 'node:events';
import net from 'node:net';
import test from 'ava';
import { LogWatch } from '../helpers/security-log.js';
import { backend, closed, frontFor, rawExchange } from '../helpers/http-front-world.js';

test('a head trickled byte by byte is cut at the deadline', async (t) => {
  const a = await backend(t, 'A');
  const world = await frontFor(t, { 'a.example.test': { port: a.port } }, { headTimeoutMs: 300 });
  const socket = net.connect({ port: world.port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  const started = Date.now();
  const head = 'GET / HTTP/1.1\r\nHost: a.example.test\r\nX-Slow: ' + 'y'.repeat(10_000);
  let i = 0;
  // One byte per write, each after the previous was flushed: bounded by the head's length.
  const trickle = (): void => {
    if (socket.destroyed || i >= head.length) return;
    socket.write(head[i++]!, () => setImmediate(trickle));
  };
  trickle();
  await closed(socket);
  const elapsed = Date.now() - started;
  t.true(i < head.length, 'cut before the head was complete');
  t.true(elapsed >= 250 && elapsed < 5_000, `cut after ${elapsed} ms`);
  t.is(world.front.stats().headTimeouts, 1);
  t.is(a.seen.length, 0);
});

test('an idle keep-alive connection that starts a second head too slowly is cut too', async (t) => {
  const a = await backend(t, 'A');
  const world = await frontFor(t, { 'a.example.test': { port: a.port } }, { headTimeoutMs: 300, keepAliveTimeoutMs: 60_000 });
  const socket = net.connect({ port: world.port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write('GET / HTTP/1.1\r\nHost: a.example.test\r\n\r\nGET / HTTP/1.1\r\n');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await closed(socket);
  t.regex(Buffer.concat(chunks).toString(), /^HTTP\/1\.1 200 OK[\s\S]*A GET \/\n$/);
  t.is(world.front.stats().headTimeouts, 1);
});

test('garbage gets 400 and a close; the front lives on', async (t) => {
  const a = await backend(t, 'A');
  const world = await frontFor(t, { 'a.example.test': { port: a.port } });
  t.regex(await rawExchange(world.port, 'HELLO THERE\r\n\r\n'), /^HTTP\/1\.1 400 Bad Request\r\n/);
  t.regex(await rawExchange(world.port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x01, 0x00, 0x00])), /^HTTP\/1\.1 400 /);
  t.regex(await rawExchange(world.port, 'GET / HTTP/1.1\r\nHost: a.example.test\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'), /^HTTP\/1\.1 400 /);
  t.regex(await rawExchange(world.port, 'GET / HTTP/1.1\r\nHost: bad host!\r\n\r\n'), /^HTTP\/1\.1 400 /);
  t.regex(await rawExchange(world.port, 'CONNECT a.example.test:443 HTTP/1.1\r\nHost: a.example.test:443\r\n\r\n'), /^HTTP\/1\.1 400 /);
  t.regex(await rawExchange(world.port, 'GET / HTTP/1.1\r\nHost: a.example.test\r\nConnection: close\r\n\r\n'), /A GET \//);
  t.is(a.seen.length, 1);
});

test('an oversized head gets 431 and a close', async (t) => {
  const world = await frontFor(t, {}, { maxHeaderSize: 4096 });
  const answer = await rawExchange(world.port, `GET / HTTP/1.1\r\nHost: a.example.test\r\nX-Big: ${'b'.repeat(8192)}\r\n\r\n`);
  t.regex(answer, /^HTTP\/1\.1 431 /);
});

test('the default head limit is 16 KiB', async (t) => {
  const a = await backend(t, 'A');
  const world = await frontFor(t, { 'a.example.test': { port: a.port } });
  const head = (n: number) => `GET / HTTP/1.1\r\nHost: a.example.test\r\nConnection: close\r\nX-Pad: ${'p'.repeat(n)}\r\n\r\n`;
  t.regex(await rawExchange(world.port, head(15_000)), /^HTTP\/1\.1 200 /);
  t.regex(await rawExchange(world.port, head(17_000)), /^HTTP\/1\.1 431 /);
});

test('an idle keep-alive connection closes after keepAliveTimeoutMs', async (t) => {
  const a = await backend(t, 'A');
  const world = await frontFor(t, { 'a.example.test': { port: a.port } }, { keepAliveTimeoutMs: 200, headTimeoutMs: 60_000 });
  const started = Date.now();
  const answer = await rawExchange(world.port, 'GET / HTTP/1.1\r\nHost: a.example.test\r\n\r\n');
  t.regex(answer, /A GET \/\n$/);
  t.true(Date.now() - started < 30_000);
  t.is(world.front.stats().headTimeouts, 0);
});

test('maxRequestsPerConnection: the last allowed response says Connection: close', async (t) => {
  const a = await backend(t, 'A');
  const world = await frontFor(t, { 'a.example.test': { port: a.port } }, { maxRequestsPerConnection: 2 });
  const get = 'GET / HTTP/1.1\r\nHost: a.example.test\r\n\r\n';
  // Node's server says close and leaves the closing to the client (or to the keep-alive timeout).
  const answer = await rawExchange(world.port, get + get, (text) => text.split('A GET /').length === 3);
  const heads = answer.split('HTTP/1.1 200 OK').slice(1);
  t.is(heads.length, 2);
  t.regex(heads[0]!, /Connection: keep-alive/);
  t.regex(heads[1]!, /Connection: close/);
});

test('refusals are logged once per source and reason a minute, then with the count left out', async (t) => {
  const watch = new LogWatch();
  let clock = 1_000_000;
  const world = await frontFor(t, {}, { log: watch.log, now: () => clock });
  const refuse = () => rawExchange(world.port, 'NOT HTTP AT ALL\r\n\r\n'); // 400, logged as bad-head
  const lines = () => watch.records.filter((r) => r.msg === 'public http request refused');
  await refuse();
  clock += 30_000; // within the minute (a 10 s window would log it)
  await refuse();
  await refuse();
  t.is(lines().length, 1);
  clock += 31_000;
  await refuse();
  t.is(lines().length, 2);
  t.like(lines()[1], { source: '127.0.0.1', reason: 'bad-head', publication: 'http', suppressed: 2 });
});
