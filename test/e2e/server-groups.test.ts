/**
 * Two skeletons, one id (issue 14), with a real relay and real skeletons of one account: both serve the
 * id, new streams reach both home servers, and when the second leaves the first keeps serving. (Before,
 * the second took the id over, and its exit left the id gone while the first still ran.)
 */
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RelayNote } from '../../relay/core/relay-events.js';
import { EchoTransfer } from '../helpers/fault-transfer.js';
import { spawnCli } from '../helpers/cli-process.js';
import { LogWatch } from '../helpers/security-log.js';
import { connectTestClient, echoServer, newSecret, PASSWORD, server, startTestSkeleton, startWorld } from '../helpers/world.js';

test('two skeletons of one account serve one id; when the second leaves the first keeps serving', async (t) => {
  const world = await startWorld(t);
  const secret = newSecret();
  const [homeA, homeB] = [await echoServer(t), await echoServer(t)];
  // Two hosts: two instance tokens (one host's skeletons share the token derived from its name).
  await startTestSkeleton(t, world, [server('echo', homeA.port, secret)], { pool: 2, instance: 'host-a' });
  const second = await startTestSkeleton(t, world, [server('echo', homeB.port, secret)], { pool: 2, instance: 'host-b' });
  t.deepEqual(second.advertised.accepted, ['echo']);
  const client = await connectTestClient(t, world);
  t.deepEqual((await client.list()).map((s) => s.id), ['echo']);

  for (let i = 0; i < 6; i++) {
    const r = await new EchoTransfer({ port: await client.open('echo', { secret }), total: 4096, seed: `spread ${i}` }).done;
    t.true(r.intact);
  }
  t.true(homeA.connections() > 0 && homeB.connections() > 0, `streams spread: ${homeA.connections()} and ${homeB.connections()}`);

  const left = new Promise<RelayNote>((resolve) => {
    const onNote = (note: RelayNote): void => {
      if (note.kind !== 'session-ended') return;
      world.relay.runtime.off('note', onNote);
      resolve(note);
    };
    world.relay.runtime.on('note', onNote);
  });
  await second.close();
  t.like(await left, { kind: 'session-ended', user: 'home', port: 'skeleton' });
  t.deepEqual((await client.list()).map((s) => s.id), ['echo'], 'still listed');
  const before = homeA.connections();
  const r = await new EchoTransfer({ port: await client.open('echo', { secret }), total: 64 * 1024, seed: 'after the second left' }).done;
  t.true(r.intact);
  t.is(homeA.connections(), before + 1, 'served by the first skeleton');
});

test('two skeletons on one host: the later takes the id over, the earlier is told and logs it, and serves again once the later has left', async (t) => {
  const world = await startWorld(t);
  const secret = newSecret();
  const [homeA, homeB] = [await echoServer(t), await echoServer(t)];
  const logA = new LogWatch('skeleton A');
  // No instance given: both take the one derived from this host's name.
  await startTestSkeleton(t, world, [server('echo', homeA.port, secret)], { log: logA.log });
  const second = await startTestSkeleton(t, world, [server('echo', homeB.port, secret)]);
  t.deepEqual(second.advertised.accepted, ['echo']);
  const told = await logA.waitFor((r) => r.msg.startsWith('relay withdrew servers'));
  t.like(told, { servers: ['echo'], code: 'ERR_SERVER_ID_TAKEN', level: 40 });
  // A asks again (2-4 s later) and is told the id is still held: it does not take it back from B.
  await logA.waitFor((r) => r.msg.startsWith('still displaced'));
  const group = world.relay.runtime.core.state.registry.list().filter((reg) => reg.info.id === 'echo');
  t.is(group.length, 1, 'one member serves echo');
  const client = await connectTestClient(t, world);
  t.true((await new EchoTransfer({ port: await client.open('echo', { secret }), total: 4096, seed: 'B' }).done).intact);
  t.is(homeB.connections(), 1, 'the later skeleton still serves after the earlier asked again');

  const mark = logA.count('servers advertised');
  await second.close();
  await logA.waitFor((r) => r.msg === 'servers advertised' && logA.count('servers advertised') > mark);
  const before = homeA.connections();
  t.true((await new EchoTransfer({ port: await client.open('echo', { secret }), total: 4096, seed: 'A again' }).done).intact);
  t.is(homeA.connections(), before + 1, 'the earlier skeleton serves again');
});

test('burrow skeleton --instance: two skeleton processes of one account on one host serve one id together', async (t) => {
  const world = await startWorld(t);
  const secret = newSecret();
  const secretFile = join(world.dir, 'echo.secret');
  await writeFile(secretFile, secret.reveal().toString('base64url'), { mode: 0o600 });
  const [homeA, homeB] = [await echoServer(t), await echoServer(t)];
  for (const [name, home] of [['a', homeA], ['b', homeB]] as const) {
    const skeleton = spawnCli(t, [
      'skeleton', '--relay', `127.0.0.1:${world.skeletonTarget.port}`, '--fingerprint', world.identity.fingerprint, '--user', 'home',
      '--server', `echo=127.0.0.1:${home.port},secret-file=${secretFile}`, '--instance', name,
    ], { env: { BURROW_PASSWORD: PASSWORD } });
    await skeleton.waitForLine(/^skeleton serving echo through /);
  }
  const client = await connectTestClient(t, world);
  for (let i = 0; i < 6; i++) t.true((await new EchoTransfer({ port: await client.open('echo', { secret }), total: 4096, seed: `cli ${i}` }).done).intact);
  t.true(homeA.connections() > 0 && homeB.connections() > 0, `streams spread: ${homeA.connections()} and ${homeB.connections()}`);
});
