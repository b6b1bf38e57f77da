/**
 * Failover in a relay cluster: a skeleton given two relays keeps a control channel to each; when one relay
 * dies (SIGKILL of a real `burrow relay --cluster` process), a client given both addresses reaches the
 * server through the other within 5 s.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { RelayTarget } from '../../shared/peer/relay-address.js';
import { clusterClient, clusterSkeleton, startClusterWorld, type ClusterRelay } from '../helpers/cluster-world.js';
import { spawnCli } from '../helpers/cli-process.js';
import { RELAY_READY } from '../helpers/fault-world.js';
import { sendAndCollect } from '../helpers/streams.js';
import { echoServer, newSecret, server } from '../helpers/world.js';

test('kill one relay: the server stays reachable through the other within 5 s', async (t) => {
  const w = await startClusterWorld(t, 1);
  const a = w.relays[0]!;
  const proc = spawnCli(t, [
    'relay', '--host', '127.0.0.1', '--client-port', '0', '--skeleton-port', '0', '--keys', join(w.dir, 'keys'), '--users', join(w.dir, 'users.json'),
    '--cluster', w.redis.url, '--cluster-id', 'b', '--cluster-heartbeat', '1',
  ]);
  const m = await proc.waitForLine(RELAY_READY);
  await proc.waitForLine(/^cluster member b, advertised to skeletons as 127\.0\.0\.1:\d+, shared state connected$/);
  const fingerprint = w.identity.fingerprint;
  const b = { clientTarget: { host: '127.0.0.1', port: Number(m[2]), fingerprint } as RelayTarget, skeletonTarget: { host: '127.0.0.1', port: Number(m[3]), fingerprint } as RelayTarget };
  const echo = await echoServer(t);
  const secret = newSecret();
  const skeleton = await clusterSkeleton(t, [b, a] as ClusterRelay[], [server('echo', echo.port, secret)]);
  t.is(skeleton.runtimes.length, 2);
  // Both control channels advertised: the skeleton is attached to A too.
  await new Promise<void>((resolve) => {
    if (a.relay.runtime.core.state.registry.get('echo')) resolve();
    else skeleton.runtimes[1]!.once('advertised', () => resolve());
  });
  const client = await clusterClient(t, [b, a] as ClusterRelay[]);
  const payload = randomBytes(64 * 1024);
  t.true((await sendAndCollect(await client.open('echo', { secret }), payload)).equals(payload));

  proc.child.kill('SIGKILL');
  await proc.exited;
  const killedAt = Date.now();
  const stream = await client.open('echo', { secret });
  t.true((await sendAndCollect(stream, payload)).equals(payload));
  const tookMs = Date.now() - killedAt;
  t.log(`reachable again ${tookMs} ms after the kill`);
  t.true(tookMs < 5000);
  t.deepEqual((await client.list()).map((s) => s.id), ['echo']);
});
