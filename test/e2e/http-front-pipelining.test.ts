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

test('a client pipelining 1,000 requests then leaving leaves no upstream stream open and opens none after', async (t) => {
  const a = await backend(t, 'A');
  const world = await frontFor(t, { 'a.example.test': { port: a.port } }, {}, 'duplex');
  const client = net.connect({ port: world.port, host: '127.0.0.1' });
  client.on('error', () => undefined);
  await once(client, 'connect');
  client.write(pipelined(1000, 'a.example.test'));
  await once(client, 'data'); // upstream is serving
  client.destroy();
  await closed(world.publicSockets[0]!);
  const opensAtClose = total(world.opened);
  await Promise.all(world.upstreams.map(streamClosed));
  // A full exchange on a new connection: any stream the old one would still open has been asked for by now.
  const probe = net.connect({ port: world.port, host: '127.0.0.1' });
  probe.on('error', () => undefined);
  probe.end('GET /probe HTTP/1.1\r\nHost: a.example.test\r\nConnection: close\r\n\r\n');
  await closed(probe);
  t.is(total(world.opened), opensAtClose + 1, 'no upstream opened for the departed client');
  const leftOpen = world.upstreams.slice(0, opensAtClose).filter((d) => !d.closed);
  t.is(leftOpen.length, 0);
  t.true(a.seen.length < 1000, `${a.seen.length} requests reached the home server`);
});
