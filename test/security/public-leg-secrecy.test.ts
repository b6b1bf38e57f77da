import test from 'ava';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { recordingForwarder } from '../helpers/security-net.js';
import { listenLocal, privateLoopback, startTestSkeleton, startWorld, type UserSpec, type World } from '../helpers/world.js';

const USERS: Record<string, UserSpec> = { home: { roles: ['skeleton'], serve: ['home-*'], publish: ['tcp:20000-20099'] } };

test('the leg between relay and skeleton of a public stream carries ciphertext only: a recorder there never sees the plain request', async (t) => {
  const host = privateLoopback();
  const world = await startWorld(t, { users: USERS, relay: { publicHost: host, publicPorts: '20000-20099' } });
  const received: Buffer[] = [];
  const web = await listenLocal(t, (socket) => {
    socket.on('error', () => socket.destroy());
    socket.on('data', (c: Buffer) => received.push(c));
    socket.on('end', () => socket.end('HTTP/1.0 200 OK\r\n\r\nreply-marker'));
  });
  const recorder = await recordingForwarder(t, world.skeletonTarget.port);
  const via: World = { ...world, skeletonTarget: { ...world.skeletonTarget, port: recorder.port } };
  await startTestSkeleton(t, via, [{ id: 'home-web', host: '127.0.0.1', port: web.port, description: '', protocol: 'http', publications: [{ server: 'home-web', url: 'tcp://:20080' }] }]);
  await world.relay.ingress.listening('tcp://:20080');
  const marker = `MARKER-${randomBytes(12).toString('hex')}`;
  const socket = netConnect({ host, port: 20080 });
  socket.end(`GET /${marker} HTTP/1.0\r\nHost: www.home.example.net\r\nCookie: ${marker}\r\n\r\n`);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'close');
  t.true(Buffer.concat(chunks).toString().endsWith('reply-marker'), 'the public client got the answer');
  t.true(Buffer.concat(received).includes(marker), 'the home server got the plain request');
  t.true(recorder.captures.length >= 2, 'the recorder saw the control channel and a data connection');
  const wire = recorder.all();
  t.false(wire.includes(marker), 'the request marker never crossed the relay-skeleton leg in the clear');
  t.false(wire.includes('reply-marker'), 'nor the reply');
  t.false(wire.includes('Host: www.home.example.net'), 'nor the request head');
});
