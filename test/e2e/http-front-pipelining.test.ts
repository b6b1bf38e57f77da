/**
 * A public client pipelining many requests: its upstream streams end with it, and it never has more
 * than a few requests under way upstream.
 */
import { once } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import test from 'ava';
import { backend, closed, frontFor } from '../helpers/http-front-world.js';

const pipelined = (n: number, host: string): string => `GET /r HTTP/1.1\r\nHost: ${host}\r\n\r\n`.repeat(n);
const total = (opened: Map<string, number>): number => [...opened.values()].reduce((a, b) => a + b, 0);
const streamClosed = (d: Duplex): Promise<void> => new Promise((resolve) => (d.closed ? resolve() : d.once('close', () => resolve())));

test('a client pipelining 60 requests then leaving leaves no upstream stream open and opens none after', async (t) => {
  const a = await backend(t, 'A');
  const world = await frontFor(t, { 'a.example.test': { port: a.port } }, {}, 'duplex');
  const client = net.connect({ port: world.port, host: '127.0.0.1' });
  client.on('error', () => undefined);
  await once(client, 'connect');
  client.write(pipelined(60, 'a.example.test')); // 8 under way, the rest waiting their turn
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

test('a client writing 1,000 pipelined requests at once has at most 8 under way, and is cut before it piles up', async (t) => {
  const a = await sampledBackend(t);
  const world = await frontFor(t, { 'a.example.test': { port: a.port } }, {}, 'duplex');
  a.peaks.front = world.front;
  const client = net.connect({ port: world.port, host: '127.0.0.1' });
  client.on('error', () => undefined);
  await once(client, 'connect');
  client.resume();
  const pad = 'p'.repeat(1000); // 1 MB in all: more than one read
  client.write(`GET /r HTTP/1.1\r\nHost: a.example.test\r\nX-Pad: ${pad}\r\n\r\n`.repeat(1000));
  await closed(world.publicSockets[0]!);
  await closed(client);
  t.true(a.peaks.inFlight <= 8, `peak ${a.peaks.inFlight} requests under way upstream`);
  // Requests parsed (their objects live in this process until the cut): a read's worth, not all.
  t.true(a.peaks.ahead < 200, `peak ${a.peaks.ahead} requests parsed ahead`);
  t.true(world.front.stats().requests < 200, `${world.front.stats().requests} requests parsed`);
  t.true(a.seen.length < 100, `${a.seen.length} requests reached the home server`);
  t.is(world.front.stats().pipelineFloods, 1);
  t.log(`peak in flight ${a.peaks.inFlight}, parsed ${world.front.stats().requests}, served ${a.seen.length}`);
});

test('modest pipelining (40 requests) is answered whole and in order, 8 at most under way', async (t) => {
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
  t.true(a.peaks.inFlight <= 8, `peak ${a.peaks.inFlight}`);
});
