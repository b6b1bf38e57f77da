/**
 * "Never lose a tunnel": the relay process dies (kill -9) or is stopped (SIGTERM) under load, with real
 * relay, skeleton and `client connect` processes; the home echo server and the paced, checksummed
 * transfers live in the test process.
 */
import type { ExecutionContext } from 'ava';
import { logMsg, type LogRecord } from '../helpers/fault-lines.js';
import { EchoTransfer, within } from '../helpers/fault-transfer.js';
import {
  advertised, FAST_HEARTBEAT, FAULT_USERS, faultWorld, overBothTransports, type Transport, listedIds, running, startForwarder, startRelay, startSkeleton, type Proc, type RelayProc,
} from '../helpers/fault-world.js';
import { echoServer } from '../helpers/world.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Lines at level error (50) or above since `after`. */
function errorsSince(proc: Proc, after: number): LogRecord[] {
  return proc.log.records('stderr', after).filter((r) => (r.level ?? 0) >= 50);
}

/** A relay, a skeleton fronting an echo server, and a `client connect` forwarder to it. */
async function echoSetup(t: ExecutionContext, relayArgs: string[], transport: Transport) {
  const w = await faultWorld(t, FAULT_USERS, transport);
  const echo = await echoServer(t);
  const relay = await startRelay(w, { args: relayArgs });
  const skeleton = await startSkeleton(w, relay.skeletonPort, [{ id: 'echo', port: echo.port }]);
  const fwd = await startForwarder(w, relay.clientPort, 'echo');
  return { w, echo, relay, skeleton, fwd };
}

/** Starts a transfer, lets it carry its first MiB both ways, then kills the relay while bytes flow. */
async function killRelayMidTransfer(t: ExecutionContext, relay: RelayProc, fwd: Proc & { port: number }): Promise<void> {
  const total = 64 * MiB;
  const doomed = new EchoTransfer({ port: fwd.port, total, seed: 'kill -9', holdAt: MiB });
  await doomed.reached();
  doomed.release();
  relay.child.kill('SIGKILL');
  t.deepEqual(await relay.exited, { code: null, signal: 'SIGKILL' });
  // The stream in flight is lost, but its local connection is closed rather than left hanging.
  const cut = await within(doomed.done, 15_000, 'the local connection of the stream cut by kill -9');
  t.true(cut.cutShort, 'the transfer did not complete');
  t.false(cut.intact);
  t.true(cut.echoed >= MiB && cut.echoed < total, `${cut.echoed} bytes came back before the cut`);
}

// Regression (was a bug): shared/peer/control-channel.ts closes the control channel only on the socket's 'close', but peer
// sockets are allowHalfOpen (shared/peer/relay-greeting.ts:27): the FIN of a relay that died only fires 'end'
// (shared/net/frame-channel.ts:20 marks the channel ended and keeps the socket). The control socket stays
// half-open; the heartbeat interval (control-channel.ts:39) and the skeleton tick (skeleton/io/skeleton-runtime.ts:51)
// are unref'd, so nothing holds the event loop and the skeleton process exits at once with code 13 (unsettled
// top-level await in bin/burrow.ts) instead of reconnecting. A `client connect` forwarder stays up (its listener
// holds the loop) but keeps using the dead session until a heartbeat write fails, up to one --ping-interval later
// (10 s by default), so its first streams after a quick restart fail with ERR_AUTH_FAILED (unknown session).
// fix: in ControlChannel, also close on the socket's 'end':
//   channel.socket.once('end', () => this.close(new BurrowError('ERR_CONNECTION_CLOSED', 'relay closed the connection')))
overBothTransports('kill -9 the relay mid-transfer: restarted on the same ports, the skeleton that kept running is advertised again and a new stream works within 5 s', async (t, transport) => {
  // The default heartbeat (10 s): coming back fast must not depend on heartbeats, a dead relay's FIN says it all.
  const { w, relay, skeleton, fwd } = await echoSetup(t, [], transport);
  const skeletonMark = skeleton.log.mark();
  await killRelayMidTransfer(t, relay, fwd);

  await skeleton.log.waitFor(logMsg('reconnecting to relay'), { after: skeletonMark, timeoutMs: 5_000 });
  t.true(running(skeleton), 'the skeleton keeps running after the relay died');
  const again = await startRelay(w, { clientPort: relay.clientPort, skeletonPort: relay.skeletonPort, name: 'relay (restarted)' });
  t.is(again.clientPort, relay.clientPort);
  t.is(again.skeletonPort, relay.skeletonPort);
  await advertised(skeleton, ['echo'], skeletonMark, 5_000 - (Date.now() - again.readyAt));

  // A new stream through the forwarder that kept running, and a fresh client list.
  const fresh = new EchoTransfer({ port: fwd.port, total: 2 * MiB, seed: 'after restart' });
  const result = await within(fresh.done, 5_000, 'a new stream after the restart');
  t.true(result.intact, JSON.stringify(result));
  const sinceReady = result.endedAt - again.readyAt;
  t.true(sinceReady < 5_000, `the new stream completed ${sinceReady} ms after the relay's ready line`);
  t.deepEqual(await listedIds(w, again.clientPort), ['echo']);
  t.true(running(skeleton) && running(fwd), 'skeleton and forwarder kept running through the crash');
}, { serial: true });

overBothTransports('SIGTERM during 20 active streams: all finish intact within --drain, the relay exits 0, and peers take Goodbye as a cue to reconnect', async (t, transport) => {
  const DRAIN_S = 10;
  const w = await faultWorld(t, FAULT_USERS, transport);
  const echo = await echoServer(t);
  const relay = await startRelay(w, { args: [...FAST_HEARTBEAT, '--drain', String(DRAIN_S)] });
  const skeleton = await startSkeleton(w, relay.skeletonPort, [{ id: 'echo', port: echo.port }]);
  const fwd = await startForwarder(w, relay.clientPort, 'echo');

  const sizes = Array.from({ length: 20 }, (_, i) => (2 + (i % 4)) * MiB);
  const transfers: EchoTransfer[] = [];
  for (const [i, total] of sizes.entries()) {
    const x = new EchoTransfer({ port: fwd.port, total, seed: `drain ${i}`, holdAt: 256 * KiB });
    transfers.push(x);
    // One open at a time, so each stream is known to carry data before the next one starts.
    await within(x.reached(), 10_000, `stream ${i} carrying its first 256 KiB`);
  }
  // Every stream has carried its first 256 KiB both ways and is held open: 20 streams are provably active.
  t.true(transfers.every((x, i) => x.sent < sizes[i]!), 'no stream has finished before SIGTERM');
  t.is(echo.connections(), 20);

  const [relayMark, skeletonMark, fwdMark] = [relay.log.mark(), skeleton.log.mark(), fwd.log.mark()];
  const termAt = Date.now();
  relay.child.kill('SIGTERM');
  await relay.log.waitFor(logMsg('shutting down'), { after: relayMark });
  // Most of every stream's bytes flow after the relay has begun shutting down.
  for (const x of transfers) x.release();

  const results = await within(Promise.all(transfers.map((x) => x.done)), (DRAIN_S + 5) * 1000, 'the 20 draining streams');
  const exit = await within(relay.exited, (DRAIN_S + 5) * 1000, 'the relay exit');
  t.deepEqual(exit, { code: 0, signal: null }, 'the relay exits 0 after draining');
  results.forEach((r, i) => {
    t.true(r.intact, `stream ${i}: ${JSON.stringify(r)}`);
    t.true(r.endedAt - termAt < DRAIN_S * 1000, `stream ${i} finished ${r.endedAt - termAt} ms after SIGTERM`);
  });
  t.is(results.reduce((n, r) => n + r.echoed, 0), sizes.reduce((a, b) => a + b, 0));
  await relay.log.waitFor(logMsg('relay stopped', { unfinished: 0 }), { after: relayMark });

  // Goodbye is a cue to come back later, not an error: both peers keep running and schedule a reconnect.
  await skeleton.log.waitFor(logMsg('relay said goodbye; will reconnect', { retryAfter: 1 }), { after: skeletonMark });
  const skeletonRetry = await skeleton.log.waitFor(logMsg('reconnecting to relay', { code: 'ERR_SHUTTING_DOWN' }), { after: skeletonMark });
  const retryInMs = JSON.parse(skeletonRetry).retryInMs as number;
  t.true(retryInMs >= 1_000 && retryInMs < 2_000, `the skeleton comes back after retryAfter plus jitter (${retryInMs} ms)`);
  await fwd.log.waitFor(logMsg('reconnecting to relay', { code: 'ERR_SHUTTING_DOWN' }), { after: fwdMark });
  t.deepEqual(errorsSince(skeleton, skeletonMark), []);
  t.deepEqual(errorsSince(fwd, fwdMark), []);
  t.true(running(skeleton) && running(fwd), 'skeleton and forwarder are still running');
}, { serial: true });

// Regression (was a bug): relay/core/source-guard.ts counts every data connection as unauthenticated until its Attach is
// handled, and refuses the 17th at once from one address (--max-unauth-per-source 16, relay/core/relay-core.ts:91
// answers ERR_LIMIT); client/io/forwarder.ts:41-49 does not retry, so a forwarder asked for more than 16
// connections at once (a browser, a connection pool, `ab -c 20`) resets the excess local connections.
// fix: let the client bound its own in-flight attaches (e.g. at most 8 per session, queue the rest) and retry
// ERR_LIMIT once with a short backoff; or have the relay not count attaches of a logged-in source against the
// pre-auth cap until the Hello timeout.
overBothTransports('40 connections opened at once through one forwarder all get a stream', async (t, transport) => {
  const w = await faultWorld(t, FAULT_USERS, transport);
  const echo = await echoServer(t);
  const relay = await startRelay(w, { args: FAST_HEARTBEAT });
  const skeleton = await startSkeleton(w, relay.skeletonPort, [{ id: 'echo', port: echo.port }]);
  const fwd = await startForwarder(w, relay.clientPort, 'echo');
  const transfers = Array.from({ length: 40 }, (_, i) => new EchoTransfer({ port: fwd.port, total: 64 * KiB, seed: `burst ${i}` }));
  const results = await within(Promise.all(transfers.map((x) => x.done)), 20_000, 'a burst of 40 streams');
  if (results.some((r) => !r.intact)) {
    // Why a stream failed is in the warnings of the three processes.
    for (const [name, p] of [['relay', relay], ['skeleton', skeleton], ['forwarder', fwd]] as const) {
      for (const r of p.log.records('stderr').filter((rec) => (rec.level ?? 0) >= 40)) t.log(name, JSON.stringify(r));
    }
  }
  t.deepEqual(results.map((r, i) => (r.intact ? 'ok' : `stream ${i}: ${r.error ?? 'cut short'}`)).filter((r) => r !== 'ok'), []);
  t.deepEqual(fwd.log.matching(logMsg('could not open stream')), []);
}, { serial: true });
