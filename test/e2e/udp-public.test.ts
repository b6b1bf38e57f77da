/**
 * Public UDP (issue 17): with a grant `udp:PORT` and `--publish home-dns=udp://:PORT`, anyone's datagrams
 * to the relay's port reach the home UDP server and its answers come back, whole; each public source is
 * a flow with its own socket at home; a flow idle for --udp-idle ends (hand clock); the publication's
 * max-conns caps its flows. Relay, skeleton and sockets on loopback (a loopback address of the test's own
 * for the fixed public port).
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import type { Publication } from '../../shared/protocol/messages.js';
import type { SkeletonServer } from '../../skeleton/index.js';
import { DNS_ANSWER, DNS_NAME, startDnsmasq } from '../helpers/dnsmasq.js';
import { findProgram } from '../helpers/port-daemon.js';
import { stateReaches } from '../helpers/state-wait.js';
import { udpApp, udpEcho } from '../helpers/udp.js';
import { privateLoopback, server, startTestSkeleton, startWorld, tempDir, type UserSpec } from '../helpers/world.js';
import type { ExecutionContext } from 'ava';
import type { FrontDoorLimits } from '../../relay/public/front-door.js';

const run = promisify(execFile);
const PORT = 20_053;
const USERS: Record<string, UserSpec> = {
  alice: { roles: ['client'], access: ['*'] },
  home: { roles: ['skeleton'], serve: ['home-*'], publish: [`udp:${PORT}`] },
};

/** A udp server published on udp://:PORT, without a secret: reached only through its publication. */
function published(id: string, port: number, extra: Partial<Publication> = {}): SkeletonServer {
  const { secret: _none, ...bare } = server(id, port, undefined as never, { protocol: 'udp', transport: 'udp' });
  return { ...bare, publications: [{ server: id, url: `udp://:${PORT}`, ...extra }] };
}

async function publicWorld(
  t: ExecutionContext, target: number, extra: Partial<Publication> = {}, limits: Partial<FrontDoorLimits> = {}, proxy?: 'v2',
) {
  const host = privateLoopback();
  const clock = { now: 0 };
  const world = await startWorld(t, {
    users: USERS, relay: { publicHost: host, publicPorts: `${PORT}`, udpIdleMs: 120_000, now: () => clock.now, publicLimits: limits, ...(proxy ? { allowProxyProtocol: true } : {}) },
  });
  const skeleton = await startTestSkeleton(t, world, [{ ...published('home-dns', target, extra), ...(proxy ? { proxy } : {}) }]);
  t.deepEqual(skeleton.advertised.published, [`udp://:${PORT}`]);
  const address = await world.relay.ingress.listening(`udp://:${PORT}`);
  return { host, clock, world, skeleton, address };
}

/** A local socket that sends to the relay's public address (not 127.0.0.1). */
async function ask(app: Awaited<ReturnType<typeof udpApp>>, host: string, datagram: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to a ${datagram.length}-byte datagram`)), 10_000);
    app.socket.once('message', (msg) => {
      clearTimeout(timer);
      resolve(msg);
    });
    app.socket.send(datagram, PORT, host);
  });
}

test('anyone reaches a published udp server on the relay port: datagrams whole both ways, one home peer per public source', async (t) => {
  const echo = await udpEcho(t);
  const { host, world } = await publicWorld(t, echo.port);
  const [a, b] = [await udpApp(t), await udpApp(t)];
  for (const size of [1, 1472, 9000, 65_507]) {
    const datagram = randomBytes(size);
    t.true((await ask(a, host, datagram)).equals(datagram), `${size} bytes intact`);
  }
  t.is((await ask(b, host, Buffer.from('b'))).toString(), 'b');
  t.deepEqual(echo.sizes, [1, 1472, 9000, 65_507, 1]);
  t.is(echo.peers.length, 2, 'two public sources, two sockets at home');
  t.like(world.relay.ingress.udp(`udp://:${PORT}`)!.totals(), { active: 2, total: 2 });
  t.like(world.relay.ingress.stats.get(`udp://:${PORT}`), { connections: 2, open: 2 });
  // The operator sees the flows: the admin API and the metrics.
  const api = await (await fetch(`${world.relay.admin!.url}api/publications`)).json() as { publications: { url: string; udp?: object }[] };
  t.deepEqual(api.publications.find((p) => p.url === `udp://:${PORT}`)?.udp, { flows: 2, flowsTotal: 2, datagramsClientToServer: 5, datagramsServerToClient: 5, dropped: 0 });
  const metrics = await (await fetch(`${world.relay.admin!.url}metrics`)).text();
  t.regex(metrics, /^burrow_public_udp_datagrams_total\{publication="udp:\/\/:20053",direction="server_to_client"\} 5$/m);
  t.regex(metrics, /^burrow_public_udp_flows_open\{publication="udp:\/\/:20053"\} 2$/m);
  t.regex(metrics, /^burrow_public_udp_dropped_total\{publication="udp:\/\/:20053"\} 0$/m);
});

test('a public udp flow opens no TCP connection to the server\'s port', async (t) => {
  // A TCP listener on the same port number, as a DNS server has: it must hear nothing from burrow. The
  // UDP port's number may be taken for TCP by another test's listener: then take another one.
  let tcpConnections = 0;
  const tcp = createServer((socket) => { tcpConnections++; socket.destroy(); });
  t.teardown(() => tcp.close());
  let echo = await udpEcho(t);
  for (let tries = 1; ; tries++) {
    const port = echo.port;
    const listened = await new Promise<boolean>((resolve, reject) => {
      tcp.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' && tries < 20 ? resolve(false) : reject(err)));
      tcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (listened) break;
    echo = await udpEcho(t);
  }
  const { host, world } = await publicWorld(t, echo.port);
  const app = await udpApp(t);
  t.is((await ask(app, host, Buffer.from('only udp'))).toString(), 'only udp');
  t.true(await stateReaches(() => world.relay.ingress.stats.get(`udp://:${PORT}`)?.open === 1));
  // The flow is served: any early connect would have been made by now.
  t.is((await ask(app, host, Buffer.from('again'))).toString(), 'again');
  t.is(tcpConnections, 0);
});

test('a public flow idle for --udp-idle ends at the relay and at home; the next datagram starts a new one', async (t) => {
  const echo = await udpEcho(t);
  const { host, clock, world, skeleton } = await publicWorld(t, echo.port);
  const app = await udpApp(t);
  t.is((await ask(app, host, Buffer.from('one'))).toString(), 'one');
  const front = world.relay.ingress.udp(`udp://:${PORT}`)!;
  clock.now += 119_999;
  front.sweep();
  t.is(front.totals().active, 1);
  clock.now += 1;
  front.sweep();
  t.is(front.totals().active, 0);
  t.true(await stateReaches(() => skeleton.udp.totals().active === 0), 'the skeleton closed its socket for the flow');
  t.true(await stateReaches(() => world.relay.ingress.stats.get(`udp://:${PORT}`)?.open === 0), 'the leg is finished');
  t.is((await ask(app, host, Buffer.from('two'))).toString(), 'two');
  t.is(echo.peers.length, 2);
});

test("the publication's max-conns caps its flows; the flows already there keep working", async (t) => {
  const echo = await udpEcho(t);
  const { host, world } = await publicWorld(t, echo.port, { maxConns: 1 });
  const [a, b] = [await udpApp(t), await udpApp(t)];
  t.is((await ask(a, host, Buffer.from('a'))).toString(), 'a');
  b.socket.send(Buffer.from('b'), PORT, host);
  t.true(await stateReaches(() => (world.relay.ingress.stats.get(`udp://:${PORT}`)?.refusals['publication-cap'] ?? 0) === 1), 'refused and counted');
  t.is((await ask(a, host, Buffer.from('a2'))).toString(), 'a2');
  t.is(echo.peers.length, 1);
});

test('many source ports from one address: the per-source cap holds (refusals counted), and the first flow keeps working', async (t) => {
  const echo = await udpEcho(t);
  const { host, world } = await publicWorld(t, echo.port, {}, { perSourceConns: 8, perSourceRate: 1000, perSourceBurst: 1000 });
  const first = await udpApp(t);
  t.is((await ask(first, host, Buffer.from('first'))).toString(), 'first');
  const crowd = await Promise.all(Array.from({ length: 30 }, () => udpApp(t)));
  for (const app of crowd) app.socket.send(Buffer.from('x'), PORT, host);
  const url = `udp://:${PORT}`;
  t.true(await stateReaches(() => (world.relay.ingress.stats.get(url)?.refusals['source-cap'] ?? 0) === 23), 'one address holds 8 flows, 23 more are refused');
  t.is(world.relay.ingress.udp(url)!.totals().total, 8);
  t.true(await stateReaches(() => echo.peers.length === 8), 'only admitted flows reach home');
  t.is((await ask(first, host, Buffer.from('still'))).toString(), 'still');
});

test('PROXY protocol v2 for UDP (opted in): the first datagram of each flow carries a DGRAM header naming the public source, later ones none', async (t) => {
  const echo = await udpEcho(t);
  const { host } = await publicWorld(t, echo.port, {}, {}, 'v2');
  const app = await udpApp(t);
  const first = await ask(app, host, Buffer.from('one'));
  const header = first.subarray(0, 28);
  t.is(header.subarray(0, 12).toString('hex'), '0d0a0d0a000d0a515549540a');
  t.is(header[13], 0x12, 'UDP over IPv4');
  t.is(`${[...header.subarray(16, 20)].join('.')}:${header.readUInt16BE(24)}`, `127.0.0.1:${app.socket.address().port}`, 'the public source');
  t.is(`${[...header.subarray(20, 24)].join('.')}:${header.readUInt16BE(26)}`, `${host}:${PORT}`, 'the relay port it reached');
  t.is(first.subarray(28).toString(), 'one');
  t.is((await ask(app, host, Buffer.from('two'))).toString(), 'two', 'no header after the first datagram');
});

test('dig against the relay public port gets the home dnsmasq answer', async (t) => {
  const dig = findProgram('dig', 'bind9-dnsutils');
  const dns = await startDnsmasq(t, await tempDir(t));
  const { host } = await publicWorld(t, dns.port);
  const answer = await run(dig, [`@${host}`, '-p', String(PORT), DNS_NAME, 'A', '+short', '+tries=1', '+time=10'], { timeout: 30_000 });
  t.is(answer.stdout.trim(), DNS_ANSWER);
});

test("new flows over the publication's rate are refused and counted (forged sources pass per-source limits); flows already there keep working", async (t) => {
  const echo = await udpEcho(t);
  // Rate 1/s: a burst of 2 at once, then about one a second.
  const { host, world } = await publicWorld(t, echo.port, {}, { udpFlowRate: 1, perSourceRate: 1000, perSourceBurst: 1000 });
  const url = `udp://:${PORT}`;
  const first = await udpApp(t);
  t.is((await ask(first, host, Buffer.from('first'))).toString(), 'first');
  const crowd = await Promise.all(Array.from({ length: 6 }, () => udpApp(t)));
  for (const app of crowd) app.socket.send(Buffer.from('x'), PORT, host);
  // The burst had 2; the first flow took one: of the 6 at once at most 2 get a flow (one if no token came back yet).
  t.true(await stateReaches(() => (world.relay.ingress.stats.get(url)?.refusals['flow-rate'] ?? 0) >= 4), 'refused as flow-rate and counted');
  const flows = world.relay.ingress.udp(url)!.totals().total;
  t.true(flows >= 2 && flows <= 3, `flows opened: ${flows}`);
  t.is((await ask(first, host, Buffer.from('still'))).toString(), 'still', 'a flow already there is not a new flow');
});

test("a source the publication's rules refuse spends none of its budget of new flows: another source still gets the token left", async (t) => {
  const echo = await udpEcho(t);
  // Rate 1/s, burst 2; 127.0.0.1 denied by the publication.
  const { host, world } = await publicWorld(t, echo.port, { deny: ['127.0.0.1/32'] }, { udpFlowRate: 1, perSourceRate: 1000, perSourceBurst: 1000 });
  const url = `udp://:${PORT}`;
  const first = await udpApp(t, privateLoopback());
  t.is((await ask(first, host, Buffer.from('first'))).toString(), 'first');
  const denied = await Promise.all(Array.from({ length: 5 }, () => udpApp(t)));
  for (const app of denied) app.socket.send(Buffer.from('x'), PORT, host);
  t.true(await stateReaches(() => (world.relay.ingress.stats.get(url)?.refusals.denied ?? 0) === 5), 'refused by the deny list');
  t.is(world.relay.ingress.stats.get(url)?.refusals['flow-rate'] ?? 0, 0);
  const other = await udpApp(t, privateLoopback());
  t.is((await ask(other, host, Buffer.from('other'))).toString(), 'other', 'the token the denied ones did not spend');
});

test('a full publication lets go of a one-shot source silent a second for a new source; one whose flows all spoke just now refuses it', async (t) => {
  const echo = await udpEcho(t);
  const { host, clock, world } = await publicWorld(t, echo.port, {}, { udpMaxFlows: 2 });
  const url = `udp://:${PORT}`;
  const [a, b, c, d] = [await udpApp(t), await udpApp(t), await udpApp(t), await udpApp(t)];
  t.is((await ask(a, host, Buffer.from('a'))).toString(), 'a');
  t.is((await ask(b, host, Buffer.from('b'))).toString(), 'b');
  clock.now += 5_000;
  t.is((await ask(a, host, Buffer.from('a again'))).toString(), 'a again');
  // b sent one datagram and has been silent 5 s on the relay's clock: c takes its place.
  t.is((await ask(c, host, Buffer.from('c'))).toString(), 'c');
  t.is(world.relay.ingress.stats.get(url)?.refusals.evicted, 1);
  t.is(world.relay.ingress.udp(url)!.totals().active, 2);
  // a and c spoke at this instant: d is refused, and they keep working.
  d.socket.send(Buffer.from('d'), PORT, host);
  t.true(await stateReaches(() => (world.relay.ingress.stats.get(url)?.refusals['publication-cap'] ?? 0) === 1), 'refused: nobody is stale');
  t.is((await ask(a, host, Buffer.from('a3'))).toString(), 'a3');
  t.is((await ask(c, host, Buffer.from('c2'))).toString(), 'c2');
  // b comes back as a new flow once someone is stale again: c has talked (two datagrams), so ten seconds.
  clock.now += 11_000;
  t.is((await ask(a, host, Buffer.from('a4'))).toString(), 'a4');
  t.is((await ask(b, host, Buffer.from('b again'))).toString(), 'b again');
});

test('a full publication keeps the flow of a source that keeps talking through a pause shorter than ten seconds; a new source waits', async (t) => {
  const echo = await udpEcho(t);
  const { host, clock, world } = await publicWorld(t, echo.port, {}, { udpMaxFlows: 2 });
  const url = `udp://:${PORT}`;
  const [a, b, c] = [await udpApp(t), await udpApp(t), await udpApp(t)];
  for (const [app, name] of [[a, 'a'], [b, 'b']] as const) {
    t.is((await ask(app, host, Buffer.from(name))).toString(), name);
    t.is((await ask(app, host, Buffer.from(`${name}2`))).toString(), `${name}2`);
  }
  clock.now += 5_000;
  c.socket.send(Buffer.from('c'), PORT, host);
  t.true(await stateReaches(() => (world.relay.ingress.stats.get(url)?.refusals['publication-cap'] ?? 0) === 1), 'two talkers silent 5 s: the new source is refused');
  t.is(world.relay.ingress.stats.get(url)?.refusals.evicted ?? 0, 0);
  clock.now += 6_000;
  t.is((await ask(b, host, Buffer.from('b3'))).toString(), 'b3', 'b spoke again');
  t.is((await ask(c, host, Buffer.from('c'))).toString(), 'c', 'a, silent 11 s, gave way');
  t.is(world.relay.ingress.stats.get(url)?.refusals.evicted, 1);
});
