/**
 * A public client pipelining many requests: its upstream streams end with it, it has one request under
 * way upstream at a time, the front parses no more than one read ahead, and a read of tiny requests
 * past 64 is cut as a flood.
 */
import { once } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import test from 'ava';
import { backend, closed, frontFor, textClient } from '../helpers/http-front-world.js';

const pipelined = (n: number, host: string): string => `GET /r HTTP/1.1\r\nHost: ${host}\r\n\r\n`.repeat(n);
const total = (opened: Map<string, number>): number => [...opened.values()].reduce((a, b) => a + b, 0);
const streamClosed = (d: Duplex): Promise<void> => new Promise((resolve) => (d.closed ? resolve() : d.once('close', () => resolve())));

test('a client pipelining 60 requests then leaving leaves no upstream stream open and opens none after', async (t) => {
  const a = await backend(t, 'A');
  const world = await frontFor(t, { 'a.example.test': { port: a.port } }, {}, 'duplex');
  const client = net.connect({ port: world.port, host: '127.0.0.1' });
  client.on('error', () => undefined);
  await once(client, 'connect');
  client.write(pipelined(60, 'a.example.test')); // one under way, the rest waiting their turn
  await once(client, 'data'); // upstream is serving
  client.destroy();
  await closed(world.publicSockets[0]!);
  const opensAtClose = total(world.opened);
  await Promise.all(world.upstreams.map(streamClosed));
  // A full exchange on a new connection: any stream the old one would still open has been asked for by now.
  const probe = net.connect({ port: world.port, host: '127.0.0.1' });
  probe.on('error', () => undefined);
  probe.resume(); // reads the answer, so the close after it is seen
  probe.end('GET /probe HTTP/1.1\r\nHost: a.example.test\r\nConnection: close\r\n\r\n');
  await closed(probe);
  t.is(total(world.opened), opensAtClose + 1, 'no upstream opened for the departed client');
  const leftOpen = world.upstreams.slice(0, opensAtClose).filter((d) => !d.closed);
  t.is(leftOpen.length, 0);
  t.true(a.seen.length < 60, `${a.seen.length} requests reached the home server`);
});

/** A backend answering each request at once, noting the front's requests under way and parsed ahead. */
async function sampledBackend(t: Parameters<typeof backend>[0]) {
  const peaks = { inFlight: 0, ahead: 0, answered: 0, front: undefined as { stats(): { inFlight: number; requests: number } } | undefined };
  const b = await backend(t, 'A', (req, res) => {
    const s = peaks.front!.stats();
    peaks.inFlight = Math.max(peaks.inFlight, s.inFlight);
    peaks.ahead = Math.max(peaks.ahead, s.requests - peaks.answered);
    req.resume();
    req.once('end', () => res.end('ok', () => void peaks.answered++));
  });
  return { ...b, peaks };
}

test('a client writing 1,000 pipelined requests at once has one under way and at most a read of them parsed ahead', async (t) => {
  const a = await sampledBackend(t);
  const world = await frontFor(t, { 'a.example.test': { port: a.port } }, {}, 'duplex');
  a.peaks.front = world.front;
  const client = net.connect({ port: world.port, host: '127.0.0.1' });
  client.on('error', () => undefined);
  await once(client, 'connect');
  let answers = 0;
  client.on('data', (c: Buffer) => (answers += c.toString('latin1').split('HTTP/1.1 200 ').length - 1));
  const pad = 'p'.repeat(1000); // 1 MB in all: many reads
  const heads = Array.from({ length: 1000 }, (_, i) => `GET /r${i} HTTP/1.1\r\nHost: a.example.test\r\nX-Pad: ${pad}\r\n${i === 999 ? 'Connection: close\r\n' : ''}\r\n`);
  client.write(heads.join(''));
  await closed(client);
  t.is(a.peaks.inFlight, 1, 'one request under way upstream at a time');
  // Requests parsed and not yet answered: what one read held (a read is at most 64 KiB: 64 of these), not all.
  t.true(a.peaks.ahead <= 65, `peak ${a.peaks.ahead} requests parsed ahead`);
  t.is(answers, 1000);
  t.deepEqual(a.seen.map((r) => r.url), heads.map((_, i) => `/r${i}`));
  t.is(world.front.stats().pipelineFloods, 0);
});

test('more than 64 requests in one read is a flood: the connection is cut before they reach a home server', async (t) => {
  const a = await sampledBackend(t);
  const world = await frontFor(t, { 'a.example.test': { port: a.port } }, {}, 'duplex');
  const { socket } = await textClient(world.port);
  socket.write('GET / HTTP/1.1\r\nHost: a.example.test\r\n\r\n'.repeat(2000)); // 84 KB: 1,500 or more in the first read
  await closed(world.publicSockets[0]!);
  await closed(socket);
  t.is(world.front.stats().pipelineFloods, 1);
  t.true(world.front.stats().requests <= 65, `${world.front.stats().requests} requests parsed`);
  t.true(a.seen.length <= 1, `${a.seen.length} requests reached the home server`);
});

test('modest pipelining (40 requests) is answered whole and in order, one at a time upstream', async (t) => {
  const a = await sampledBackend(t);
  const world = await frontFor(t, { 'a.example.test': { port: a.port } }, {}, 'duplex');
  a.peaks.front = world.front;
  const heads = Array.from({ length: 40 }, (_, i) => `GET /r${i} HTTP/1.1\r\nHost: a.example.test\r\n${i === 39 ? 'Connection: close\r\n' : ''}\r\n`);
  const client = net.connect({ port: world.port, host: '127.0.0.1' });
  client.on('error', () => undefined);
  await once(client, 'connect');
  let text = '';
  client.on('data', (c: Buffer) => (text += c.toString('latin1')));
  client.write(heads.join(''));
  await closed(client);
  t.is(text.split('HTTP/1.1 200 ').length - 1, 40);
  t.deepEqual(a.seen.map((r) => r.url), heads.map((_, i) => `/r${i}`));
  t.is(a.peaks.inFlight, 1, `peak ${a.peaks.inFlight}`);
});
