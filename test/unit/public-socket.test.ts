import net from 'node:net';
import test from 'ava';
import { silentLogger } from '../../shared/log.js';
import { guardSocket } from '../../relay/public/public-socket.js';

test('a public socket without a peer address (reset before it was accepted) is closed, never served under an empty address', (t) => {
  const gone = new net.Socket(); // no peer: what an accepted socket reset before 'connection' reports
  t.is(gone.remoteAddress, undefined);
  t.false(guardSocket(gone, silentLogger()));
  t.true(gone.destroyed);
});

test('a connected public socket passes, with an error listener that closes it', async (t) => {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const socket = await accepted;
  t.true(guardSocket(socket, silentLogger()));
  socket.emit('error', Object.assign(new Error('boom'), { code: 'ECONNRESET' }));
  t.true(socket.destroyed);
  client.destroy();
  server.close();
});
