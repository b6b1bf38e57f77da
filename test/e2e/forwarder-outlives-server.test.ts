/**
 * A `client connect` forwarder outlives its server (issue 14): started before its skeleton it listens
 * anyway, refuses each local connection with one log line per outage (not per connection), and serves
 * as soon as the skeleton advertises the server. A typo'd id is a warning naming what the account sees.
 */
import test from 'ava';
import { connect } from 'node:net';
import { logMsg } from '../helpers/fault-lines.js';
import { EchoTransfer, within } from '../helpers/fault-transfer.js';
import { clientArgs, faultWorld, running, serverArg, spawnWatched, startRelay, startSkeleton, type FaultWorld } from '../helpers/fault-world.js';
import { echoServer, PASSWORD } from '../helpers/world.js';

async function forwarder(w: FaultWorld, clientPort: number, id: string, secretOf = id) {
  const proc = spawnWatched(w.t, `forwarder ${id}`, [
    'client', 'connect', id, '--listen', '127.0.0.1:0', '--secret-file', await w.secretFile(secretOf), '--log-level', 'debug', ...clientArgs(w, clientPort),
  ], { BURROW_PASSWORD: PASSWORD });
  const m = await proc.waitForLine(/^forwarding 127\.0\.0\.1:(\d+) -> /);
  return { ...proc, port: Number(m[1]) };
}

/** A local connection that the forwarder closes without a byte of answer. */
async function refused(port: number): Promise<number> {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  let answered = 0;
  socket.on('data', (chunk: Buffer) => void (answered += chunk.length));
  socket.write('hello?');
  // A refusal may come as a reset: 'close' (not events.once, which rejects on 'error') is the end either way.
  await new Promise((resolve) => socket.once('close', resolve));
  return answered;
}

test('a forwarder started before its skeleton listens, refuses with one warning per outage, and serves once the server is advertised', async (t) => {
  const w = await faultWorld(t);
  const echo = await echoServer(t);
  const relay = await startRelay(w);
  const fwd = await forwarder(w, relay.clientPort, 'echo');
  await fwd.waitForLine(/warning: server echo is not listed \(yet\); this account can see: none\./, { stream: 'stderr' });

  t.is(await refused(fwd.port), 0);
  t.is(await refused(fwd.port), 0);
  const refusals = await fwd.log.waitForCount(logMsg('could not open stream', { outage: 'ongoing' }), 2, { after: 0 });
  t.is(refusals.length, 2);
  // The warning at start opened the outage: no refusal is a warning of its own.
  t.deepEqual(fwd.log.matching(logMsg('could not open stream', { outage: 'new' })), []);
  t.is(echo.connections(), 0);

  await startSkeleton(w, relay.skeletonPort, [{ id: 'echo', port: echo.port }]);
  const result = await within(new EchoTransfer({ port: fwd.port, total: 256 * 1024, seed: 'after the skeleton came' }).done, 15_000, 'a stream once the server is there');
  t.true(result.intact, JSON.stringify(result));
  await fwd.log.waitFor(logMsg('server reachable again; serving', { code: 'ERR_UNKNOWN_SERVER' }), { after: 0 });
  t.true(running(fwd));
});

test("a typo'd server id warns at start, naming the id and what the account can see, and keeps forwarding", async (t) => {
  const w = await faultWorld(t);
  const echo = await echoServer(t);
  const relay = await startRelay(w);
  await startSkeleton(w, relay.skeletonPort, [{ id: 'echo', port: echo.port }]);
  const fwd = await forwarder(w, relay.clientPort, 'ecoh', 'echo');
  await fwd.waitForLine(/warning: server ecoh is not listed \(yet\); this account can see: echo\./, { stream: 'stderr' });
  await fwd.log.waitFor(logMsg('server not available at start; forwarding anyway', { server: 'ecoh', code: 'ERR_UNKNOWN_SERVER' }), { after: 0 });
  t.is(await refused(fwd.port), 0);
  t.true(running(fwd), 'the forwarder keeps running');
});

test('a forwarder and a skeleton started while their relay is down keep running, log in by themselves once it is up, and serve', async (t) => {
  const w = await faultWorld(t);
  const echo = await echoServer(t);
  // A relay that then dies gives two ports with nobody behind them, to start everything else against.
  const first = await startRelay(w);
  first.child.kill('SIGKILL');
  await new Promise((resolve) => first.child.once('exit', resolve));
  const fwd = await forwarder(w, first.clientPort, 'echo');
  await fwd.waitForLine(/warning: could not log in to the relay yet \(ERR_RELAY_UNREACHABLE\); listening anyway/, { stream: 'stderr' });
  const skeleton = spawnWatched(t, 'skeleton', [
    'skeleton', '--relay', `${w.host}:${first.skeletonPort}`, '--fingerprint', w.fingerprint, '--user', 'home', '--server', await serverArg(w, { id: 'echo', port: echo.port }),
  ], { BURROW_PASSWORD: PASSWORD });
  await skeleton.waitForLine(/Retrying until the relay answers/, { stream: 'stderr' });
  const relay = await startRelay(w, { clientPort: first.clientPort, skeletonPort: first.skeletonPort, name: 'relay (late)' });
  // The forwarder logs in by itself once the relay is there, before any local connection asks it to.
  await fwd.log.waitFor(logMsg('logged in to relay again'), { after: 0 });
  await skeleton.waitForLine(/^skeleton serving echo through /);
  const result = await within(new EchoTransfer({ port: fwd.port, total: 256 * 1024, seed: 'relay came late' }).done, 10_000, 'a stream once the relay is up');
  t.true(result.intact, JSON.stringify(result));
  // Within seconds (about 4 s on a quiet machine; the bound is loose for a loaded test host).
  t.log(`served ${result.endedAt - relay.readyAt} ms after the relay's ready line`);
  t.true(result.endedAt - relay.readyAt < 15_000, `served ${result.endedAt - relay.readyAt} ms after the relay's ready line`);
  t.true(running(fwd) && running(skeleton));
});
