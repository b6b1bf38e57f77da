/**
 * The "real server" of the connection workloads: echoes every byte back, keeps half-closed sockets
 * open until the peer ends. `node dist/bench/echo-server.js PORT` (127.0.0.1 only; 0 picks a port);
 * prints `listening PORT` once ready.
 */
import { createServer, type AddressInfo } from 'node:net';

const port = Number(process.argv[2] ?? 0);
const server = createServer({ allowHalfOpen: true }, (socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  socket.pipe(socket);
});
server.on('error', (err) => {
  console.error(`echo server: ${err.message}`);
  process.exit(1);
});
server.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => {
  console.log(`listening ${(server.address() as AddressInfo).port}`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
