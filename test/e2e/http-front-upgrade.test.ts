/** WebSocket-style upgrades through the public HTTP front. */
import { once } from 'node:events';
import http, { type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import test from 'ava';
import { backend, frontFor, rawExchange } from '../helpers/http-front-world.js';

/** A backend that upgrades `/ws` and echoes every byte after it, and refuses other upgrades with 403. */
async function echoBackend(t: Parameters<typeof backend>[0]) {
  const b = await backend(t, 'B');
  const heads: string[][] = [];
  const sockets = new Set<Socket>();
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  b.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    heads.push(req.rawHeaders);
    if (req.url !== '/ws') return void socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno');
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Up: yes\r\n\r\n');
    if (head.length) socket.write(head);
    socket.pipe(socket);
  });
  return { ...b, heads };
}

test('upgrade goes through: 101 relayed, bytes echo both ways, half-close ends the stream', async (t) => {
  const b = await echoBackend(t);
  const world = await frontFor(t, { 'ws.example.test': { port: b.port } });
  const req = http.request({ port: world.port, host: '127.0.0.1', path: '/ws', headers: { Host: 'ws.example.test', Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
  req.end();
  const [res, socket] = (await once(req, 'upgrade')) as [IncomingMessage, Socket, Buffer];
  t.is(res.statusCode, 101);
  t.is(res.headers['x-up'], 'yes');
  socket.on('error', () => undefined);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const payload = Buffer.alloc(300_000, 7);
  socket.end(payload);
  await once(socket, 'end');
  t.true(Buffer.concat(chunks).equals(payload));
  // The head went up as received: case and order kept, Connection/Upgrade included.
  t.deepEqual(b.heads[0]!.slice(0, 6), ['Host', 'ws.example.test', 'Connection', 'Upgrade', 'Upgrade', 'websocket']);
});

test('bytes the client sent right after its upgrade head reach the server', async (t) => {
  const b = await echoBackend(t);
  const world = await frontFor(t, { 'ws.example.test': { port: b.port } });
  const answer = await rawExchange(world.port, 'GET /ws HTTP/1.1\r\nHost: ws.example.test\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\nearly-bytes', (text) => text.endsWith('early-bytes'));
  t.regex(answer, /^HTTP\/1\.1 101 Switching Protocols\r\n[\s\S]*\r\n\r\nearly-bytes$/);
});

test('a refused upgrade is relayed and the connection closes (no raw pipe left to that server)', async (t) => {
  const b = await echoBackend(t);
  const other = await backend(t, 'OTHER');
  const world = await frontFor(t, { 'ws.example.test': { port: b.port }, 'other.example.test': { port: other.port } });
  const answer = await rawExchange(world.port,
    'GET /nope HTTP/1.1\r\nHost: ws.example.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n' +
    'GET /later HTTP/1.1\r\nHost: other.example.test\r\n\r\n');
  t.regex(answer, /^HTTP\/1\.1 403 Forbidden\r\n/);
  t.regex(answer, /Connection: close\r\n\r\nno$/);
  t.is(b.seen.length, 0);
  t.is(other.seen.length, 0);
});

test('upgrade to an unknown host gets 404, to an offline one 502', async (t) => {
  const world = await frontFor(t, { 'off.example.test': { port: undefined } });
  const up = (host: string) => `GET /ws HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`;
  t.regex(await rawExchange(world.port, up('none.example.test')), /^HTTP\/1\.1 404 /);
  t.regex(await rawExchange(world.port, up('off.example.test')), /^HTTP\/1\.1 502 /);
});

test('an idle upgraded stream is cut after idleTimeoutMs, and so is one still waiting for its 101; their upstreams close', async (t) => {
  const b = await echoBackend(t);
  const silent = await backend(t, 'S');
  const held: Socket[] = [];
  silent.server.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
    socket.on('error', () => undefined);
    held.push(socket); // never answers
  });
  t.teardown(() => held.forEach((s) => s.destroy()));
  const world = await frontFor(t, { 'ws.example.test': { port: b.port }, 'slow.example.test': { port: silent.port } }, { idleTimeoutMs: 300 }, 'duplex');
  const up = (host: string) => `GET /ws HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`;
  // Upgraded, then nothing either way: rawExchange returns once the front closes the connection.
  t.regex(await rawExchange(world.port, up('ws.example.test')), /^HTTP\/1\.1 101 /);
  t.is(await rawExchange(world.port, up('slow.example.test')), '');
  t.is(world.upstreams.length, 2);
  await Promise.all(world.upstreams.map((d) => new Promise<void>((resolve) => (d.closed ? resolve() : d.once('close', () => resolve())))));
  t.pass();
});
