/**
 * The public front door under load from one source: caps and rates hold, refusals are counted per
 * reason and logged once per source and reason, other sources still get in, and nothing waits for a
 * timeout to prove it (every refused socket is closed at once and awaited).
 */
import test, { type ExecutionContext } from 'ava';
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import tls from 'node:tls';
import type { FrontDoorLimits } from '../../relay/public/front-door.js';
import { LogWatch } from '../helpers/security-log.js';
import { listenLocal, privateLoopback, startTestSkeleton, startWorld, type UserSpec } from '../helpers/world.js';

const USERS: Record<string, UserSpec> = { home: { roles: ['skeleton'], serve: ['home-*'], publish: ['tcp:20000-20099', '*.home.example.net'] } };

/** A home server that keeps every connection open and says when it has `n` of them. */
async function holdingServer(t: ExecutionContext): Promise<{ port: number; open: () => number; reached: (n: number) => Promise<void> }> {
  const sockets = new Set<Socket>();
  const waiters: { n: number; resolve: () => void }[] = [];
  const { port } = await listenLocal(t, (socket) => {
    socket.on('error', () => socket.destroy());
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    for (const w of waiters.filter((x) => sockets.size >= x.n)) w.resolve();
  });
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  return {
    port, open: () => sockets.size,
    reached: (n) => (sockets.size >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
  };
}

/** Opens `n` connections from `localAddress`; resolves with those still open once the others have closed. */
async function flood(t: ExecutionContext, host: string, port: number, n: number, localAddress: string, expectOpen: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  const closed: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const s = netConnect({ host, port, localAddress });
    s.on('error', () => undefined);
    sockets.push(s);
    // Not once(): a reset socket emits 'error' first, which would reject it.
    closed.push(new Promise((resolve) => s.once('close', resolve)));
  }
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  // Refused connections are closed by the relay at once: wait for exactly n - expectOpen of them.
  let done = 0;
  await new Promise<void>((resolve) => {
    if (n - expectOpen === 0) return resolve();
    for (const c of closed) void c.then(() => { if (++done === n - expectOpen) resolve(); });
  });
  return sockets.filter((s) => !s.destroyed && !s.closed);
}

/** A relay on a loopback address of its own, with these caps, publishing a holding server on `port`. */
async function holdingWorld(t: ExecutionContext, port: number, limits: Partial<FrontDoorLimits>, logs?: LogWatch) {
  const host = privateLoopback();
  const world = await startWorld(t, { users: USERS, ...(logs ? { log: logs.log } : {}), relay: { publicHost: host, publicPorts: '20000-20099', publicLimits: limits } });
  const home = await holdingServer(t);
  const url = `tcp://:${port}`;
  await startTestSkeleton(t, world, [{ id: 'home-hold', host: '127.0.0.1', port: home.port, description: '', protocol: 'tcp', publications: [{ server: 'home-hold', url }] }]);
  await world.relay.ingress.listening(url);
  return { host, world, home, refusals: () => world.relay.ingress.stats.get(url)?.refusals ?? {} };
}

test.serial('1,000 connections from one source: 16 get through (the per-source cap), the rest are refused, counted and logged once; another source still gets in', async (t) => {
  const logs = new LogWatch();
  const { host, home, refusals } = await holdingWorld(t, 20070, { perSourceConns: 16, perSourceRate: 100_000, perSourceBurst: 100_000 }, logs);
  const open = await flood(t, host, 20070, 1000, '127.0.0.1', 16);
  t.is(open.length, 16);
  t.is(refusals()['source-cap'], 984);
  t.is(logs.records.filter((r) => r.msg === 'public connection refused' && r.reason === 'source-cap').length, 1);
  await home.reached(16);
  // Another source is not held back by the first one's flood.
  const other = netConnect({ host, port: 20070, localAddress: '127.0.0.2' });
  other.on('error', () => undefined);
  t.teardown(() => other.destroy());
  await home.reached(17);
  t.is(home.open(), 17);
});

test.serial('new connections per second from one source: past the burst they are refused as source-rate, at once', async (t) => {
  const { host, refusals } = await holdingWorld(t, 20071, { perSourceRate: 1, perSourceBurst: 20 });
  const open = await flood(t, host, 20071, 120, '127.0.0.1', 20);
  t.is(open.length, 20);
  t.is(refusals()['source-rate'], 100);
});

test.serial('a flood of unknown SNI names: each gets its alert, all are counted, one log line', async (t) => {
  const host = privateLoopback();
  const logs = new LogWatch();
  const world = await startWorld(t, { users: USERS, log: logs.log, relay: { publicHost: host, httpsPort: 8443, publicLimits: { perSourceRate: 100_000, perSourceBurst: 100_000 } } });
  const errors: string[] = [];
  for (let batch = 0; batch < 6; batch++) {
    await Promise.all(Array.from({ length: 50 }, async (_, i) => {
      const socket = tls.connect({ host, port: 8443, servername: `n${batch}-${i}.unknown.example.org`, rejectUnauthorized: false });
      const [err] = (await once(socket, 'error')) as [Error & { code?: string }];
      errors.push(err.code ?? err.message);
      socket.destroy();
    }));
  }
  t.is(errors.length, 300);
  t.true(errors.every((code) => code === 'ERR_SSL_TLSV1_UNRECOGNIZED_NAME'), [...new Set(errors)].join(','));
  t.is(world.relay.ingress.stats.get('https')?.refusals['unknown-host'], 300);
  t.is(logs.records.filter((r) => r.msg === 'public connection refused').length, 1);
});
