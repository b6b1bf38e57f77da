/** Plain-TCP checks against a relay's public ports, as anyone on the internet would make them. */
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';

/** Sends `text`, half-closes, and returns everything that came back (an echo server returns it whole). */
export async function echoThrough(host: string, port: number, text: string): Promise<string> {
  const socket = netConnect({ host, port });
  await once(socket, 'connect');
  socket.end(text);
  let got = '';
  socket.setEncoding('utf8');
  for await (const chunk of socket) got += chunk as string;
  return got;
}

/** 'connected', or the connect error's code (ECONNREFUSED when nothing listens). */
export function refusedConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket: Socket = netConnect({ host, port });
    socket.once('connect', () => { socket.destroy(); resolve('connected'); });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}
