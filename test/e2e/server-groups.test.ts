/**
 * Two skeletons, one id (issue 14), with a real relay and real skeletons of one account: both serve the
 * id, new streams reach both home servers, and when the second leaves the first keeps serving. (Before,
 * the second took the id over, and its exit left the id gone while the first still ran.)
 */
import test from 'ava';
import type { RelayNote } from '../../relay/core/relay-events.js';
import { EchoTransfer } from '../helpers/fault-transfer.js';
import { connectTestClient, echoServer, newSecret, server, startTestSkeleton, startWorld } from '../helpers/world.js';

test('two skeletons of one account serve one id; when the second leaves the first keeps serving', async (t) => {
  const world = await startWorld(t);
  const secret = newSecret();
  const [homeA, homeB] = [await echoServer(t), await echoServer(t)];
  await startTestSkeleton(t, world, [server('echo', homeA.port, secret)], { pool: 2 });
  const second = await startTestSkeleton(t, world, [server('echo', homeB.port, secret)], { pool: 2 });
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
