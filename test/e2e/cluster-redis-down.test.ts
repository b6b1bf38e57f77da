/**
 * Redis down: each relay keeps serving its own skeletons (local opens work), refuses what needs shared
 * state with ERR_CLUSTER_UNAVAILABLE, reconnects, and republishes its registrations when Redis returns
 * (empty: it keeps nothing on disk), after which cross-relay opens work again.
 */
import test from 'ava';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { connect } from '../../client/index.js';
import { Redacted } from '../../shared/redacted.js';
import { clusterSkeleton, startClusterRelay, startClusterWorld } from '../helpers/cluster-world.js';
import { sendAndCollect } from '../helpers/streams.js';
import { echoServer, newSecret, PASSWORD, server } from '../helpers/world.js';

test('Redis restart: local opens go on, shared requests are refused, then relays resync and cross-relay opens work', async (t) => {
  const w = await startClusterWorld(t, 2);
  const [a, b] = [w.relays[0]!, w.relays[1]!];
  const echo = await echoServer(t);
  const secret = newSecret();
  await clusterSkeleton(t, [a], [server('near', echo.port, secret)]);
  await clusterSkeleton(t, [b], [server('far', echo.port, secret)]);
  // One relay address only, so no failover hides what this relay answers.
  const client = await connect({ relay: a.clientTarget, user: 'alice', password: new Redacted(PASSWORD) });
  t.teardown(() => client.close());
  const payload = randomBytes(16 * 1024);
  t.true((await sendAndCollect(await client.open('far', { secret }), payload)).equals(payload));

  const downs = [once(a.relay.cluster!.link, 'down'), once(b.relay.cluster!.link, 'down')];
  await w.redis.stop();
  await Promise.all(downs);
  t.true((await sendAndCollect(await client.open('near', { secret }), payload)).equals(payload));
  await t.throwsAsync(client.open('far', { secret }), { code: 'ERR_CLUSTER_UNAVAILABLE' } as never);
  await t.throwsAsync(client.list(), { code: 'ERR_CLUSTER_UNAVAILABLE' } as never);

  const resynced = [once(a.relay.cluster!.link, 'resynced'), once(b.relay.cluster!.link, 'resynced')];
  await w.redis.restart();
  await Promise.all(resynced);
  t.deepEqual((await client.list()).map((s) => s.id), ['far', 'near']);
  t.true((await sendAndCollect(await client.open('far', { secret }), payload)).equals(payload));
});

test('a skeleton advertising while Redis is down is refused for now and listed once Redis returns', async (t) => {
  const w = await startClusterWorld(t, 2);
  const [a, b] = [w.relays[0]!, w.relays[1]!];
  const echo = await echoServer(t);
  const secret = newSecret();
  await Promise.all([w.redis.stop(), once(a.relay.cluster!.link, 'down'), once(b.relay.cluster!.link, 'down')]);
  const skeleton = await clusterSkeleton(t, [b], [server('late', echo.port, secret)]);
  t.deepEqual(skeleton.advertised.rejected, [{ id: 'late', code: 'ERR_CLUSTER_UNAVAILABLE' }]);
  const accepted = new Promise<void>((resolve) => skeleton.runtime.on('advertised', (r) => r.accepted.includes('late') && resolve()));
  const aBack = once(a.relay.cluster!.link, 'resynced');
  await w.redis.restart();
  await Promise.all([accepted, aBack]);
  const client = await connect({ relay: a.clientTarget, user: 'alice', password: new Redacted(PASSWORD) });
  t.teardown(() => client.close());
  const payload = randomBytes(4096);
  t.true((await sendAndCollect(await client.open('late', { secret }), payload)).equals(payload));
});

test('a relay started while Redis is down serves alone, then joins the cluster when Redis comes up', async (t) => {
  const w = await startClusterWorld(t, 1);
  const a = w.relays[0]!;
  await Promise.all([w.redis.stop(), once(a.relay.cluster!.link, 'down')]);
  const b = await startClusterRelay(t, w, 'late');
  t.false(b.relay.cluster!.link.up);
  const echo = await echoServer(t);
  const secret = newSecret();
  const skeleton = await clusterSkeleton(t, [b], [server('echo', echo.port, secret)]);
  t.deepEqual(skeleton.advertised.rejected, [{ id: 'echo', code: 'ERR_CLUSTER_UNAVAILABLE' }]);
  const accepted = new Promise<void>((resolve) => skeleton.runtime.on('advertised', (r) => r.accepted.includes('echo') && resolve()));
  const joined = [once(a.relay.cluster!.link, 'resynced'), once(b.relay.cluster!.link, 'resynced')];
  await w.redis.restart();
  await Promise.all([...joined, accepted]);
  const client = await connect({ relay: a.clientTarget, user: 'alice', password: new Redacted(PASSWORD) });
  t.teardown(() => client.close());
  const payload = randomBytes(4096);
  t.true((await sendAndCollect(await client.open('echo', { secret }), payload)).equals(payload));
});
