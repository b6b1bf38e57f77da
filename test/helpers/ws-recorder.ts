/**
 * A man in the middle that sees what a TLS-inspecting proxy sees: it accepts WebSockets, opens one to
 * the real endpoint for each, forwards every message both ways, and keeps every payload it carried.
 */
import type { ExecutionContext } from 'ava';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';

export interface WsRecorder {
  port: number;
  /** Every message payload it forwarded, both directions, in order. */
  seen(): Buffer;
}

export async function startWsRecorder(t: ExecutionContext, upstream: string): Promise<WsRecorder> {
  const chunks: Buffer[] = [];
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 << 20 });
  const http = createServer();
  const sockets = new Set<{ destroy(): void }>();
  http.on('upgrade', (req, socket, head) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    wss.handleUpgrade(req, socket, head, (down) => {
      const up = new WebSocket(`${upstream}${req.url ?? '/'}`, { maxPayload: 4 << 20 });
      const pending: { data: Buffer; binary: boolean }[] = [];
      down.on('message', (data: Buffer, binary: boolean) => {
        chunks.push(Buffer.from(data));
        if (up.readyState === up.OPEN) up.send(data, { binary });
        else pending.push({ data, binary });
      });
      up.on('open', () => {
        for (const m of pending.splice(0)) up.send(m.data, { binary: m.binary });
      });
      up.on('message', (data: Buffer, binary: boolean) => {
        chunks.push(Buffer.from(data));
        down.send(data, { binary });
      });
      up.on('close', () => down.terminate());
      down.on('close', () => up.terminate());
      up.on('error', () => down.terminate());
      down.on('error', () => up.terminate());
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    http.close(() => resolve());
  }));
  return { port: (http.address() as AddressInfo).port, seen: () => Buffer.concat(chunks) };
}
