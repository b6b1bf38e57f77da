/**
 * The admin HTTP answers each connection's requests one at a time, in order. Node parses pipelined
 * requests as fast as they arrive and, with async handlers, would build every answer at once: 20,000
 * pipelined `GET /api/overview` on a connection that never reads grew the relay by 2 GB. Here the next
 * request of a connection is handled only once the previous answer has been handed to the socket, and a
 * connection with more than `max` requests waiting is cut. A connection that stops reading then holds
 * one answer, until the server's socket timeout drops it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

function settled(res: ServerResponse): Promise<void> {
  if (res.writableFinished || res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    res.once('finish', resolve);
    res.once('close', resolve);
  });
}

export function oneAtATime(handle: Handler, max = 8): (req: IncomingMessage, res: ServerResponse) => void {
  const lines = new WeakMap<Socket, { tail: Promise<void>; waiting: number }>();
  return (req, res) => {
    const socket = req.socket;
    const line = lines.get(socket) ?? { tail: Promise.resolve(), waiting: 0 };
    lines.set(socket, line);
    if (line.waiting >= max) {
      socket.destroy();
      return;
    }
    line.waiting++;
    line.tail = line.tail
      .then(() => (socket.destroyed ? undefined : handle(req, res)))
      .then(() => settled(res))
      .finally(() => void line.waiting--);
  };
}
