/**
 * Drains end with the work (issue 14): a relay whose only peers are an idle `client connect` tunnel and
 * a skeleton's idle pool exits at once on SIGTERM instead of waiting out --drain (30 s), because the
 * forwarder ends its idle tunnel when it hears Goodbye. A connection made while the relay is away waits
 * for the restarted relay (and the skeleton's advertisement) instead of failing.
 */
import test from 'ava';
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { logMsg } from '../helpers/fault-lines.js';
import { EchoTransfer, within } from '../helpers/fault-transfer.js';
import { FAULT_USERS, faultWorld, overBothTransports, running, startForwarder, startRelay, startSkeleton } from '../helpers/fault-world.js';
import { startWsWorld } from '../helpers/ws-world.js';
import type { StreamAudit } from '../../relay/index.js';
import { connectTestClient, echoServer, newSecret, server, startTestSkeleton, startWorld } from '../helpers/world.js';
import { heldServer } from '../helpers/held-server.js';

overBothTransports('SIGTERM with only an idle forwarder tunnel and a skeleton pool attached: the relay exits 0 at once, and a connection made meanwhile is served by the restarted relay', async (t, transport) => {
  const w = await faultWorld(t, FAULT_USERS, transport);
  const echo = await echoServer(t);
  const relay = await startRelay(w); // the default --drain of 30 s
  await startSkeleton(w, relay.skeletonPort, [{ id: 'echo', port: echo.port }]);
  const fwd = await startForwarder(w, relay.clientPort, 'echo');
  const first = await within(new EchoTransfer({ port: fwd.port, total: 64 * 1024, seed: 'before' }).done, 15_000, 'a first stream, which opens the tunnel');
  t.true(first.intact);

  const [relayMark, fwdMark] = [relay.log.mark(), fwd.log.mark()];
  const termAt = Date.now();
  relay.child.kill('SIGTERM');
  const exit = await within(relay.exited, 10_000, 'the relay exit (today: after the 30 s drain)');
  const tookMs = Date.now() - termAt;
  t.log(`relay exited ${tookMs} ms after SIGTERM`);
  t.deepEqual(exit, { code: 0, signal: null });
  t.true(tookMs < 5_000, `${tookMs} ms`);
  await relay.log.waitFor(logMsg('relay stopped', { unfinished: 0, drained: true }), { after: relayMark });
  await fwd.log.waitFor(logMsg('relay going away: ending the tunnel once its channels end', { channels: 0 }), { after: fwdMark });

  // The relay is away: this connection waits for it and for the skeleton's advertisement, then is served.
  const during = new EchoTransfer({ port: fwd.port, total: 256 * 1024, seed: 'during the restart' });
  const again = await startRelay(w, { clientPort: relay.clientPort, skeletonPort: relay.skeletonPort, name: 'relay (restarted)' });
  const result = await within(during.done, 15_000, 'the connection made while the relay was away');
  t.true(result.intact, JSON.stringify(result));
  t.log(`served ${result.endedAt - again.readyAt} ms after the restarted relay was ready`);
  t.deepEqual(fwd.log.matching(logMsg('could not open stream'), { after: fwdMark }), []);
  t.true(running(fwd));
}, { serial: true });

overBothTransports('close(): a single stream idle for a second is cut (audit reason shutdown-idle) while a stream that moves bytes drains to its end', async (t, transport) => {
  const world = transport === 'ws' ? await startWsWorld(t) : await startWorld(t);
  const echo = await echoServer(t);
  const secret = newSecret();
  await startTestSkeleton(t, world, [server('echo', echo.port, secret)]);
  const client = await connectTestClient(t, world);
  const audits: StreamAudit[] = [];
  world.relay.on('stream-closed', (a) => audits.push(a));
  // An idle stream (an ssh session nobody types in), and one that keeps sending until we stop it.
  const idle = await client.open('echo', { secret });
  idle.on('error', () => undefined);
  const busy = await client.open('echo', { secret });
  busy.on('error', () => undefined);
  busy.resume();
  let sending = true;
  const chunk = Buffer.alloc(1024);
  const pump = (): void => {
    if (!sending) return void busy.end();
    busy.write(chunk, () => setImmediate(pump));
  };
  pump();
  const closing = world.relay.close({ drainMs: 30_000 });
  // The idle stream is cut within about a second; the busy one is still running then.
  const idleCut = await within(new Promise<StreamAudit>((resolve) => world.relay.on('stream-closed', (a) => { if (a.reason === 'shutdown-idle') resolve(a); })), 5_000, 'the idle stream cut');
  t.is(idleCut.reason, 'shutdown-idle');
  t.is(world.relay.runtime.activeStreams, 1, 'the busy stream drains on');
  sending = false;
  await within(closing, 10_000, 'close() once the busy stream ended');
  t.deepEqual(audits.map((a) => a.reason).sort(), ['ok', 'shutdown-idle']);
});

test('close(): a public connection whose request awaits its answer is not idle: an idle one beside it is cut in the same sweep, it runs on and finishes', async (t) => {
  const world = await startWorld(t, {
    users: { home: { roles: ['skeleton'], serve: ['home-*'], publish: ['tcp:20000-20099'] } },
    relay: { publicHost: '127.0.0.1', publicPorts: '20000-20099' },
  });
  const { port, release, gotRequest } = await heldServer(t, 'the answer');
  await startTestSkeleton(t, world, [{ id: 'home-slow', host: '127.0.0.1', port, description: '', protocol: 'tcp', publications: [{ server: 'home-slow', url: 'tcp://:20046' }] }]);
  await world.relay.ingress.listening('tcp://:20046');
  const idle = netConnect({ host: '127.0.0.1', port: 20046 });
  idle.on('error', () => undefined);
  const waiting = netConnect({ host: '127.0.0.1', port: 20046 });
  await Promise.all([once(idle, 'connect'), once(waiting, 'connect')]);
  let answer = '';
  waiting.setEncoding('utf8');
  waiting.on('data', (c: string) => { answer += c; });
  const ended = new Promise<string>((resolve) => {
    waiting.once('end', () => resolve('end'));
    waiting.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
  waiting.write('GET\n');
  await within(gotRequest, 10_000, 'the request at home');
  const closing = world.relay.close({ drainMs: 30_000 });
  // Both are first seen by the same sweep and are silent since: without patience for an owed answer the
  // waiting one would be cut in the very sweep that cuts the idle one, before the answer is released.
  await within(new Promise<StreamAudit>((resolve) => world.relay.on('stream-closed', (a) => { if (a.reason === 'shutdown-idle') resolve(a); })), 5_000, 'the idle connection cut');
  release();
  t.is(await within(ended, 10_000, 'the answer'), 'end');
  t.is(answer, 'the answer');
  await within(closing, 10_000, 'close() once the answered connection ended');
});
