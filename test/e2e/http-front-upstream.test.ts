/**
 * The public HTTP front's upstream streams: a home server that closes after each answer, one whose
 * keep-alive timeout races a request, and header bytes outside ASCII. Raw sockets, no sleeps.
 */
import { once } from 'node:events';
import net from 'node:net';
import test from 'ava';
import { frontFor, rawBackend, rawExchange, textClient } from '../helpers/http-front-world.js';

const ok = (body: string, extra = ''): string => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;
const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: a.example.test\r\n${extra}\r\n`;
const answered = (n: number) => (text: string): boolean => text.split('HTTP/1.1 ').length - 1 >= n;

test('a home server that says Connection: close after each answer: every request on one public connection is answered, each on a fresh stream', async (t) => {
  const home = await rawBackend(t, (socket, conn) => socket.end(ok(`conn ${conn}`, 'Connection: close\r\n')));
  const world = await frontFor(t, { 'a.example.test': { port: home.port } });
  const client = await textClient(world.port);
  const { socket } = client;
  for (let i = 0; i < 3; i++) {
    socket.write(get(`/${i}`));
    await client.until((text) => text.endsWith(`conn ${i}`));
  }
  socket.destroy();
  t.is(client.text().split('HTTP/1.1 200 OK').length - 1, 3);
  t.is(client.text().split('Connection: keep-alive').length - 1, 3, 'the public connection lives on');
  t.deepEqual(Object.fromEntries(world.opened), { 'a.example.test': 3 });
});

test('a reused stream the home server closes as a GET goes up (keep-alive race): the GET goes again on a fresh stream, once', async (t) => {
  // Connection 0 answers its first request, then drops the connection on the second without answering.
  const home = await rawBackend(t, (socket, conn, n) => (conn === 0 && n === 1 ? socket.destroy() : socket.write(ok(`conn ${conn} req ${n}`))));
  const world = await frontFor(t, { 'a.example.test': { port: home.port } });
  const text = await rawExchange(world.port, get('/one') + get('/two'), answered(2));
  t.regex(text, /conn 0 req 0[\s\S]*HTTP\/1\.1 200 OK[\s\S]*conn 1 req 0$/);
  t.deepEqual(Object.fromEntries(world.opened), { 'a.example.test': 2 });
});

test('the same race for a POST is not repeated: 502 and close (it may have had its effect)', async (t) => {
  const home = await rawBackend(t, (socket, conn, n) => (conn === 0 && n === 1 ? socket.destroy() : socket.write(ok(`conn ${conn} req ${n}`))));
  const world = await frontFor(t, { 'a.example.test': { port: home.port } });
  const post = 'POST /two HTTP/1.1\r\nHost: a.example.test\r\nContent-Length: 2\r\n\r\nhi';
  const text = await rawExchange(world.port, get('/one') + post);
  t.regex(text, /conn 0 req 0HTTP\/1\.1 502 Bad Gateway\r\n[\s\S]*Connection: close/);
  t.deepEqual(Object.fromEntries(world.opened), { 'a.example.test': 1 });
  t.is(home.heads.length, 2, 'the POST reached the home server once');
});

test('a fresh stream that fails before answering a GET is not retried: 502', async (t) => {
  const home = await rawBackend(t, (socket) => socket.destroy());
  const world = await frontFor(t, { 'a.example.test': { port: home.port } });
  t.regex(await rawExchange(world.port, get('/')), /^HTTP\/1\.1 502 /);
  t.deepEqual(Object.fromEntries(world.opened), { 'a.example.test': 1 });
});

test('header bytes above 0x7f pass both ways as they came (latin1, as node:http writes them)', async (t) => {
  // The home server echoes the request's X-Odd value, byte for byte, in its answer's X-Back.
  const home = await rawBackend(t, (socket, _conn, _n, head) => {
    const odd = /\r\nX-Odd: ([^\r]*)/.exec(head)?.[1] ?? 'none';
    socket.end(Buffer.from(ok('ok', `X-Back: ${odd}\r\nConnection: close\r\n`), 'latin1'));
  });
  const world = await frontFor(t, { 'a.example.test': { port: home.port } });
  const odd = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0xff]); // "café ÿ" in latin1
  const request = Buffer.concat([Buffer.from('GET / HTTP/1.1\r\nHost: a.example.test\r\nConnection: close\r\nX-Odd: '), odd, Buffer.from('\r\n\r\n')]);
  const answer = Buffer.from(await rawExchange(world.port, request), 'latin1');
  t.true(answer.includes(Buffer.concat([Buffer.from('\r\nX-Back: '), odd, Buffer.from('\r\n')])), answer.toString('latin1'));
});

test('a request\'s trailers go to the home server only, never into the answer', async (t) => {
  // The home server answers chunked, without trailers of its own, once the request's body is in.
  const home = await rawBackend(t, (socket) => socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'));
  const world = await frontFor(t, { 'a.example.test': { port: home.port } });
  const post = 'POST / HTTP/1.1\r\nHost: a.example.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\nhi\r\n0\r\nX-Request-Trailer: secret\r\n\r\n';
  const answer = await rawExchange(world.port, post);
  t.regex(answer, /\r\n\r\n2\r\nok\r\n0\r\n\r\n$/);
  t.false(answer.includes('X-Request-Trailer'));
});
