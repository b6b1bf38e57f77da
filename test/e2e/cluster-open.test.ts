/**
 * Relay cluster on a real redis-server: a client on relay A opens a server whose skeleton is attached only
 * to relay B. B asks its skeleton to dial A with a session ticket; A joins it; bytes arrive intact. Listings
 * on A show B's servers; S9 holds across relays; a forged or foreign ticket is refused.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { connect } from '../../client/index.js';
import { Redacted } from '../../shared/redacted.js';
import { startSkeleton } from '../../skeleton/index.js';
import { clusterClient, clusterSkeleton, startClusterWorld } from '../helpers/cluster-world.js';
import { sendAndCollect } from '../helpers/streams.js';
import { connectTestClient, echoServer, newSecret, PASSWORD, server, startWorld } from '../helpers/world.js';

test('a client on relay A reaches a server whose skeleton is attached to relay B only', async (t) => {
  const w = await startClusterWorld(t, 2);
  const [a, b] = [w.relays[0]!, w.relays[1]!];
  const echo = await echoServer(t);
  const secret = newSecret();
  const skeleton = await clusterSkeleton(t, [b], [server('echo', echo.port, secret)]);
  t.deepEqual(skeleton.advertised.accepted, ['echo']);
  const client = await clusterClient(t, [a]);
  t.deepEqual((await client.list()).map((s) => s.id), ['echo']);
  const payload = randomBytes(256 * 1024);
  const stream = await client.open('echo', { secret });
  t.true((await sendAndCollect(stream, payload)).equals(payload));
  // Stream bytes never crossed relays: A spliced this stream, B spliced none.
  t.is(b.relay.runtime.totalBytes().clientToServer, 0);
  t.true(a.relay.runtime.totalBytes().clientToServer >= payload.length);
});

test('many cross-relay opens in parallel all arrive intact', async (t) => {
  const w = await startClusterWorld(t, 2);
  const echo = await echoServer(t);
  const secret = newSecret();
  await clusterSkeleton(t, [w.relays[1]!], [server('echo', echo.port, secret)], { pool: 0 });
  const client = await clusterClient(t, [w.relays[0]!]);
  const results = await Promise.all(Array.from({ length: 20 }, async () => {
    const payload = randomBytes(4096);
    return (await sendAndCollect(await client.open('echo', { secret }), payload)).equals(payload);
  }));
  t.deepEqual(results, Array.from({ length: 20 }, () => true));
});

test('S9: another account cannot take an id held at another relay of the cluster; the same account may', async (t) => {
  const w = await startClusterWorld(t, 2, {
    users: { alice: { roles: ['client'], access: ['*'] }, home: { roles: ['skeleton'], serve: ['*'] }, mallory: { roles: ['skeleton'], serve: ['*'] } },
  });
  const echo = await echoServer(t);
  const secret = newSecret();
  await clusterSkeleton(t, [w.relays[0]!], [server('echo', echo.port, secret)]);
  const thief = await startSkeleton({ relay: w.relays[1]!.skeletonTarget, user: 'mallory', password: new Redacted(PASSWORD), servers: [server('echo', echo.port, newSecret())] });
  t.teardown(() => thief.close());
  t.deepEqual(thief.advertised.rejected, [{ id: 'echo', code: 'ERR_SERVER_ID_TAKEN' }]);
  const twin = await clusterSkeleton(t, [w.relays[1]!], [server('echo', echo.port, secret)]);
  t.deepEqual(twin.advertised.accepted, ['echo']);
});

test('an unknown server through the cluster is ERR_UNKNOWN_SERVER, like a forbidden one (S11)', async (t) => {
  const w = await startClusterWorld(t, 2, { users: { alice: { roles: ['client'], access: ['pub-*'] }, home: { roles: ['skeleton'], serve: ['*'] } } });
  const echo = await echoServer(t);
  const secret = newSecret();
  await clusterSkeleton(t, [w.relays[1]!], [server('secret-box', echo.port, secret)]);
  const client = await connect({ relay: w.relays[0]!.clientTarget, user: 'alice', password: new Redacted(PASSWORD) });
  t.teardown(() => client.close());
  const forbidden = await t.throwsAsync(client.open('secret-box', { secret }));
  const missing = await t.throwsAsync(client.open('nothing-here', { secret }));
  t.is((forbidden as { code?: string }).code, 'ERR_UNKNOWN_SERVER');
  t.is((missing as { code?: string }).code, 'ERR_UNKNOWN_SERVER');
  t.deepEqual(await client.list(), []);
});

test('the admin API of any relay shows every live relay of the cluster with its counters', async (t) => {
  const w = await startClusterWorld(t, 2, { relay: { admin: { host: '127.0.0.1', port: 0 } } });
  const [a, b] = [w.relays[0]!, w.relays[1]!];
  const echo = await echoServer(t);
  await clusterSkeleton(t, [b], [server('echo', echo.port, newSecret())]);
  // B publishes its counters with each registry sync (on every change and heartbeat): wait for one that counts the server.
  const view = async (): Promise<{ relay: string; up: boolean; relays: { relay: string; stats: Record<string, number> }[] }> =>
    (await (await fetch(new URL('/api/cluster', a.relay.admin!.url))).json()) as never;
  let seen = await view();
  while (!seen.relays.some((r) => r.relay === 'r1' && r.stats.servers === 1)) {
    await once(b.relay.cluster!.link, 'synced');
    seen = await view();
  }
  t.is(seen.relay, 'r0');
  t.true(seen.up);
  t.deepEqual(seen.relays.map((r) => r.relay), ['r0', 'r1']);
});

test('a relay that stops leaves the cluster at once: its registrations and its place in the live set are gone', async (t) => {
  const w = await startClusterWorld(t, 2);
  const [a, b] = [w.relays[0]!, w.relays[1]!];
  const echo = await echoServer(t);
  const secret = newSecret();
  await clusterSkeleton(t, [b], [server('echo', echo.port, secret)]);
  const redis = new Redis(w.redis.url);
  t.teardown(() => redis.disconnect());
  t.deepEqual(await redis.hkeys('burrow:relay:r1'), ['echo']);
  await b.relay.close({ drainMs: 0 });
  t.deepEqual(await redis.zrange('burrow:relays', '0', '-1'), ['r0']);
  t.deepEqual(await redis.keys('burrow:owner:*'), []);
  const client = await clusterClient(t, [a]);
  await t.throwsAsync(client.open('echo', { secret }), { code: 'ERR_UNKNOWN_SERVER' } as never);
});

test('a client logged in at relay B attaches a stream at relay A with its session ticket', async (t) => {
  const w = await startClusterWorld(t, 2, { users: { alice: { roles: ['client'], access: ['near', 'far'] }, home: { roles: ['skeleton'], serve: ['*'] } } });
  const [a, b] = [w.relays[0]!, w.relays[1]!];
  const echo = await echoServer(t);
  const secret = newSecret();
  await clusterSkeleton(t, [a], [server('near', echo.port, secret), server('hidden', echo.port, secret)]);
  const client = await clusterClient(t, [b]);
  const payload = randomBytes(64 * 1024);
  t.true((await sendAndCollect(await client.open('near', { secret, via: a.clientTarget }), payload)).equals(payload));
  t.true(a.relay.runtime.totalBytes().clientToServer >= payload.length);
  t.is(b.relay.runtime.totalBytes().clientToServer, 0);
  // The guest's rights at A are A's: a server its account may not access is unknown there (S11).
  await t.throwsAsync(client.open('hidden', { secret, via: a.clientTarget }), { code: 'ERR_UNKNOWN_SERVER' } as never);
  t.is(a.relay.runtime.core.state.guests.size, 0);
});

test('a single relay issues no tickets', async (t) => {
  const world = await startWorld(t);
  const client = await connectTestClient(t, world);
  await t.throwsAsync(client.open('x', { secret: newSecret(), via: world.clientTarget }), { code: 'ERR_INVALID_REQUEST' } as never);
});
