/**
 * "Never lose a tunnel": peers that stop answering without closing anything. A skeleton frozen with
 * SIGSTOP, and a network path (a proxy in the test process) that silently stops carrying bytes; only
 * heartbeats can tell. Relay, skeletons and forwarders are real processes.
 */
import type { ExecutionContext } from 'ava';
import { connect, type BurrowClient } from '../../client/index.js';
import { readSecretFile } from '../../shared/cli/secret-file.js';
import { Redacted } from '../../shared/redacted.js';
import { runCli } from '../helpers/cli-process.js';
import { logMsg } from '../helpers/fault-lines.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { within } from '../helpers/fault-transfer.js';
import {
  advertised, clientArgs, FAST_HEARTBEAT, FAULT_USERS, faultWorld, freeze, overBothTransports, relayTarget, listedIds, running, startRelay, startSkeleton, type FaultWorld,
} from '../helpers/fault-world.js';
import { echoServer, PASSWORD } from '../helpers/world.js';

/** A logged-in library client (in the test process), closed in teardown. */
async function libraryClient(t: ExecutionContext, w: FaultWorld, clientPort: number): Promise<BurrowClient> {
  const client = await connect({ relay: relayTarget(w, clientPort), user: 'alice', password: new Redacted(PASSWORD) });
  t.teardown(() => client.close());
  return client;
}

/** One echo through a fresh `client stdio` process; resolves with what came back. */
async function stdioEcho(w: FaultWorld, clientPort: number, id: string, text: string): Promise<string> {
  const r = await runCli(['client', 'stdio', id, '--secret-file', await w.secretFile(id), ...clientArgs(w, clientPort)], { BURROW_PASSWORD: PASSWORD }, { input: text });
  if (r.code !== 0) throw new Error(`client stdio exited ${r.code}\n${r.stderr}`);
  return r.stdout;
}

overBothTransports('a frozen skeleton: a client waiting on its dial gets ERR_SERVER_UNREACHABLE when the heartbeat declares it dead, not at --dial-timeout; a new skeleton of the account then serves the id', async (t, transport) => {
  const w = await faultWorld(t, FAULT_USERS, transport);
  const [echoA, echoB] = [await echoServer(t), await echoServer(t)];
  const relay = await startRelay(w, { args: [...FAST_HEARTBEAT, '--dial-timeout', '30'] });
  // No idle pool (and no probe to grow one): an open waits on a Dial, which a frozen skeleton never answers.
  const a = await startSkeleton(w, relay.skeletonPort, [{ id: 'echo', port: echoA.port }], { args: ['--pool', '0'], name: 'skeleton A' });
  const client = await libraryClient(t, w, relay.clientPort);

  const relayMark = relay.log.mark();
  freeze(a);
  const frozenAt = Date.now();
  const err = await t.throwsAsync(within(client.open('echo', { secret: await readSecretFile(await w.secretFile('echo')) }), 20_000, 'an open to a frozen skeleton'));
  const afterMs = Date.now() - frozenAt;
  t.is((err as { code?: string }).code, 'ERR_SERVER_UNREACHABLE');
  await relay.log.waitFor(logMsg('peer silent, closing session', { user: 'home' }), { after: relayMark });
  t.true(afterMs < 10_000, `the waiting client got its error ${afterMs} ms after the freeze (--dead-after 3, --dial-timeout 30)`);
  t.is(echoA.connections(), 0);

  // A new skeleton process of the same account serves the id at once.
  const b = await startSkeleton(w, relay.skeletonPort, [{ id: 'echo', port: echoB.port }], { name: 'skeleton B' });
  t.is(b.stdout().trim(), `skeleton serving echo through ${w.host}:${relay.skeletonPort}`);
  t.is(await stdioEcho(w, relay.clientPort, 'echo', 'served by B'), 'served by B');
  t.is(echoB.connections(), 1, 'the new skeleton served the stream');
  a.child.kill('SIGKILL');
  t.is((await a.exited).signal, 'SIGKILL');
  t.true(running(b));
});

overBothTransports('a frozen skeleton still registered at the relay is taken over at once by a new skeleton of the same account', async (t, transport) => {
  const w = await faultWorld(t, FAULT_USERS, transport);
  const [echoA, echoB] = [await echoServer(t), await echoServer(t)];
  // A long --dead-after: the frozen skeleton's registration is still live when the new one arrives.
  const relay = await startRelay(w, { args: ['--ping-interval', '1', '--dead-after', '60'] });
  const a = await startSkeleton(w, relay.skeletonPort, [{ id: 'echo', port: echoA.port }], { name: 'skeleton A' });
  const relayMark = relay.log.mark();
  freeze(a);
  const b = await startSkeleton(w, relay.skeletonPort, [{ id: 'echo', port: echoB.port }], { name: 'skeleton B' });
  t.is(b.stdout().trim(), `skeleton serving echo through ${w.host}:${relay.skeletonPort}`, 'the id was accepted, not ERR_SERVER_ID_TAKEN');
  await relay.log.waitFor(logMsg('servers taken over', { servers: ['echo'] }), { after: relayMark });
  t.deepEqual(relay.log.matching(logMsg('peer silent, closing session'), { after: relayMark }), [], 'a takeover, not a heartbeat death');
  t.is(await stdioEcho(w, relay.clientPort, 'echo', 'served by B'), 'served by B');
  t.is(echoB.connections(), 1);
  t.is(echoA.connections(), 0);
});

// Regression (was a bug): relay/core/relay-core.ts #endSession frees a dead skeleton's ids, closes its idle pool
// connections and fails the dials waiting on it, but a client stream already joined to one of its pooled
// connections is left alone: with the default --pool 2 the relay joins an open to a pooled connection of the
// frozen skeleton at once, and the client then waits for the e2e handshake until E2E_TIMEOUT_MS
// (shared/crypto/secure-stream.ts:38, 10 s) and fails with ERR_TIMEOUT, whatever the heartbeat found.
// fix: when #tick declares a skeleton session dead, also close the streams joined to its data connections
// that have not finished their e2e handshake (or all of them: their skeleton is silent), so the client hears
// ERR_SERVER_UNREACHABLE (or a prompt close) when the heartbeat fires.
overBothTransports('a frozen skeleton with idle pooled connections: an open joined to one fails when the heartbeat declares it dead', async (t, transport) => {
  const w = await faultWorld(t, FAULT_USERS, transport);
  const echo = await echoServer(t);
  const relay = await startRelay(w, { args: [...FAST_HEARTBEAT, '--dial-timeout', '30'] });
  const a = await startSkeleton(w, relay.skeletonPort, [{ id: 'echo', port: echo.port }], { name: 'skeleton A (default --pool 2)' });
  const client = await libraryClient(t, w, relay.clientPort);
  const relayMark = relay.log.mark();
  freeze(a);
  const frozenAt = Date.now();
  const err = await t.throwsAsync(within(client.open('echo', { secret: await readSecretFile(await w.secretFile('echo')) }), 20_000, 'an open to a frozen skeleton'));
  const afterMs = Date.now() - frozenAt;
  await relay.log.waitFor(logMsg('peer silent, closing session', { user: 'home' }), { after: relayMark });
  // The relay cuts the joined connection when the heartbeat fires; to the client that is a stream closed
  // mid-handshake, which it cannot tell from a skeleton refusing the secret: both mean exit code 4.
  t.true(['ERR_SERVER_UNREACHABLE', 'ERR_E2E_HANDSHAKE_FAILED'].includes((err as { code?: string }).code ?? ''), String(err));
  t.true(afterMs < 6_000, `failed ${afterMs} ms after the freeze (--dead-after 3)`);
});

overBothTransports('a network path that silently stops forwarding: relay and skeleton both find out by heartbeat, and the skeleton comes back when the path heals', async (t, transport) => {
  const w = await faultWorld(t, FAULT_USERS, transport);
  const echo = await echoServer(t);
  const relay = await startRelay(w, { args: FAST_HEARTBEAT });
  const proxy = await FaultProxy.start(t, w.host, relay.skeletonPort);
  const skeleton = await startSkeleton(w, proxy.port, [{ id: 'echo', port: echo.port }]);
  t.deepEqual(await listedIds(w, relay.clientPort), ['echo']);

  const [relayMark, skeletonMark] = [relay.log.mark(), skeleton.log.mark()];
  proxy.cut();
  // Nothing is closed and nothing goes through: only heartbeats can tell.
  await relay.log.waitFor(logMsg('peer silent, closing session', { user: 'home' }), { after: relayMark, timeoutMs: 10_000 });
  await skeleton.log.waitFor(logMsg('control channel closed', { code: 'ERR_TIMEOUT' }), { after: skeletonMark, timeoutMs: 10_000 });
  await skeleton.log.waitFor(logMsg('reconnecting to relay', { code: 'ERR_TIMEOUT' }), { after: skeletonMark });
  t.deepEqual(await listedIds(w, relay.clientPort), [], 'the relay freed the id of the skeleton it cannot hear');
  t.deepEqual(relay.log.matching(logMsg('logged in', { user: 'home' }), { after: relayMark }), [], 'no skeleton login got through the cut');

  const healMark = skeleton.log.mark();
  proxy.heal();
  await advertised(skeleton, ['echo'], healMark, 15_000);
  t.deepEqual(await listedIds(w, relay.clientPort), ['echo']);
  t.is(await stdioEcho(w, relay.clientPort, 'echo', 'back through the healed path'), 'back through the healed path');
  t.true(running(skeleton));
});

// Regression (was a bug): skeleton/io/skeleton-runtime.ts (control 'close') and #openData (:139-165): when the control
// channel dies, the idle pool connections of that session are kept; they wait for a Bind with no timeout
// (greeting.channel.next(0)) and are only destroyed by stop(). When the path dies without a FIN ever
// arriving (a NAT or router that lost its state), each outage leaks --pool sockets for the life of the process.
// fix: keep the sockets per generation and destroy the idle ones of a generation when its control channel
// closes (or on 'disconnected'/'goodbye'), as the relay already does with that session's pool.
overBothTransports('after a silent network outage the skeleton closes the idle pool connections of its dead session', async (t, transport) => {
  const w = await faultWorld(t, FAULT_USERS, transport);
  const echo = await echoServer(t);
  const relay = await startRelay(w, { args: FAST_HEARTBEAT });
  const proxy = await FaultProxy.start(t, w.host, relay.skeletonPort);
  const skeleton = await startSkeleton(w, proxy.port, [{ id: 'echo', port: echo.port }]);
  const skeletonMark = skeleton.log.mark();
  proxy.cut();
  await skeleton.log.waitFor(logMsg('reconnecting to relay', { code: 'ERR_TIMEOUT' }), { after: skeletonMark, timeoutMs: 10_000 });
  // The old flows vanish without a word to either end; new connections go through.
  const old = proxy.dropSilently();
  t.true(old.length >= 3, `control and pool connections of the first session (${old.length})`);
  const healMark = skeleton.log.mark();
  proxy.heal();
  await advertised(skeleton, ['echo'], healMark, 15_000);
  const leaked = old.filter((s) => !s.destroyed && !s.readableEnded);
  t.is(leaked.length, 0, `${leaked.length} connections of the dead session are still open at the skeleton`);
});
