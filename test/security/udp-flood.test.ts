/**
 * Bounds: 1,000 flows from as many source ports of one address against a public udp port (a bounded
 * stand-in for a spoofed-looking flood). The front door's default per-source rate and caps hold: only its
 * burst of flows is admitted, every other source is refused and counted, the flow that was there first
 * keeps being answered, and a tcp publication of the same relay keeps serving.
 */
import test from 'ava';
import { echoThrough } from '../helpers/public-net.js';
import { stateReaches } from '../helpers/state-wait.js';
import { udpApp, udpEcho, type UdpApp } from '../helpers/udp.js';
import { echoServer, privateLoopback, server, startTestSkeleton, startWorld, type UserSpec } from '../helpers/world.js';

const UDP_PORT = 20_253;
const TCP_PORT = 20_254;
const FLOOD = 1000;
const USERS: Record<string, UserSpec> = { home: { roles: ['skeleton'], serve: ['home-*'], publish: [`udp:${UDP_PORT}`, `tcp:${TCP_PORT}`] } };

function ask(app: UdpApp, host: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer')), 10_000);
    app.socket.once('message', (msg) => {
      clearTimeout(timer);
      resolve(msg.toString());
    });
    app.socket.send(Buffer.from(text), UDP_PORT, host);
  });
}

test('Bounds: 1,000 source ports of one address against a public udp port: the default per-source rate holds, refusals are counted, the first flow and a tcp publication keep serving', async (t) => {
  const host = privateLoopback();
  const world = await startWorld(t, { users: USERS, relay: { publicHost: host, publicPorts: `${UDP_PORT}-${TCP_PORT}` } });
  const [echo, tcpEcho] = [await udpEcho(t), await echoServer(t)];
  const bare = (id: string, port: number, extra: object) => {
    const { secret: _none, ...rest } = server(id, port, undefined as never, extra);
    return rest;
  };
  await startTestSkeleton(t, world, [
    { ...bare('home-dns', echo.port, { protocol: 'udp', transport: 'udp' }), publications: [{ server: 'home-dns', url: `udp://:${UDP_PORT}` }] },
    { ...bare('home-echo', tcpEcho.port, {}), publications: [{ server: 'home-echo', url: `tcp://:${TCP_PORT}` }] },
  ]);
  const url = `udp://:${UDP_PORT}`;
  await world.relay.ingress.listening(url);
  await world.relay.ingress.listening(`tcp://:${TCP_PORT}`);
  const first = await udpApp(t);
  t.is(await ask(first, host, 'first'), 'first');

  const flood = await Promise.all(Array.from({ length: FLOOD }, () => udpApp(t)));
  const refusals = (): number => Object.values(world.relay.ingress.stats.get(url)?.refusals ?? {}).reduce((a, n) => a + n, 0);
  const front = world.relay.ingress.udp(url)!;
  // In batches of 50, each counted before the next goes (a burst of 1,000 at once would mostly be dropped
  // by the kernel's receive buffer before the relay reads it, which proves nothing about the relay).
  const started = Date.now();
  for (let sent = 0; sent < FLOOD; sent += 50) {
    for (const app of flood.slice(sent, sent + 50)) app.socket.send(Buffer.from('x'), UDP_PORT, host);
    t.true(await stateReaches(() => refusals() + front.totals().total - 1 === sent + 50, 10_000), `sources ${sent}-${sent + 49} admitted or refused`);
  }
  // The default per-source rate: a burst of 100 new connections, then 50 a second, however many ports send.
  const allowed = 1 + 100 + Math.ceil(50 * (Date.now() - started) / 1000);
  const admitted = front.totals().total;
  t.true(admitted <= allowed, `${admitted} flows admitted, the rate allows ${allowed}`);
  t.is(refusals(), FLOOD - (admitted - 1), 'every other source refused and counted');
  t.is(await ask(first, host, 'still here'), 'still here');
  t.is(await echoThrough(host, TCP_PORT, 'tcp too'), 'tcp too');
});
