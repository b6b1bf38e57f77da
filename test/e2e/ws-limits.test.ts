/**
 * The relay's WebSocket endpoint holds to its limits: only PATH?role=client|skeleton upgrades (404
 * otherwise, nothing reaches the relay core), a text message closes that connection with 1003, a
 * message past maxPayload closes it with 1009, and other connections live on.
 */
import test from 'ava';
import { request } from 'node:http';
import { WebSocket } from 'ws';
import { decodeBody, FrameDecoder } from '../../shared/protocol/codec.js';
import { FRAME_LIMITS } from '../../shared/protocol/messages.js';
import { WS_CLOSE_TEXT, WS_MAX_PAYLOAD } from '../../shared/net/ws-socket.js';
import { startWsWorld, WS_PATH } from '../helpers/ws-world.js';

/** Resolves once upgraded; `hello` is watched from the start (the Hello can come with the 101). */
function open(url: string): Promise<WebSocket & { hello: Promise<{ t: string; port?: string }> }> {
  return new Promise((resolve, reject) => {
    const ws = Object.assign(new WebSocket(url, { perMessageDeflate: false }), { hello: Promise.resolve({ t: 'none' }) });
    ws.hello = firstFrame(ws);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** The HTTP status of a refused upgrade (0 if it was accepted). */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(0);
      ws.terminate();
    });
    ws.once('error', (err) => (ws.readyState === ws.CLOSED ? undefined : reject(err)));
  });
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code: number) => resolve(code)));
}

/** The first frame the relay sends on a connection: its Hello. */
function firstFrame(ws: WebSocket): Promise<{ t: string; port?: string }> {
  const decoder = new FrameDecoder(FRAME_LIMITS.handshake);
  return new Promise((resolve) => {
    ws.on('message', (data: Buffer) => {
      decoder.append(data);
      const body = decoder.next();
      if (body) resolve(decodeBody(body) as { t: string; port?: string });
    });
  });
}

test('both roles on one path: the Hello names the port the role query asked for', async (t) => {
  const world = await startWsWorld(t);
  const base = `ws://127.0.0.1:${world.relay.addresses.ws!.port}${WS_PATH}`;
  for (const role of ['client', 'skeleton'] as const) {
    const ws = await open(`${base}?role=${role}`);
    const hello = await ws.hello;
    t.is(hello.t, 'hello', JSON.stringify(hello));
    t.is(hello.port, role);
    ws.terminate();
  }
});

test('another path or no role: 404, and the relay core never sees a connection', async (t) => {
  const world = await startWsWorld(t);
  const port = world.relay.addresses.ws!.port;
  for (const path of ['/', `${WS_PATH}/x?role=client`, WS_PATH, `${WS_PATH}?role=admin`]) {
    t.is(await upgradeStatus(`ws://127.0.0.1:${port}${path}`), 404, path);
  }
  const plain = await new Promise<number>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: `${WS_PATH}?role=client` }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject).end();
  });
  t.is(plain, 404, 'a plain GET is not an upgrade');
  t.is(world.relay.runtime.snapshot().sessions.length, 0);
});

test('a text message closes that connection with 1003; an oversized message with 1009; a neighbour lives on', async (t) => {
  const world = await startWsWorld(t);
  const url = `ws://127.0.0.1:${world.relay.addresses.ws!.port}${WS_PATH}?role=client`;
  const neighbour = await open(url);
  await neighbour.hello;
  const text = await open(url);
  const textClosed = closed(text);
  text.send('hello');
  t.is(await textClosed, WS_CLOSE_TEXT);
  const big = await open(url);
  const bigClosed = closed(big);
  big.send(Buffer.alloc(WS_MAX_PAYLOAD + 1));
  t.is(await bigClosed, 1009);
  t.is(neighbour.readyState, WebSocket.OPEN);
  neighbour.terminate();
});
