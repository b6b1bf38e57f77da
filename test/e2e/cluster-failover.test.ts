/**
 * Failover in a relay cluster: a skeleton given two relays keeps a control channel to each; when one relay
 * dies (SIGKILL of a real `burrow relay --cluster` process), a client given both addresses reaches the
 * server through the other within 5 s.
 */
import test, { type ExecutionContext } from 'ava';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { clusterClient, clusterSkeleton, startClusterWorld, type ClusterRelay, type ClusterWorld } from '../helpers/cluster-world.js';
import { runCli, spawnCli, type CliProcess } from '../helpers/cli-process.js';
import { listen } from '../helpers/loopback.js';
import { RELAY_READY } from '../helpers/fault-world.js';
import { sendAndCollect } from '../helpers/streams.js';
import { echoServer, newSecret, PASSWORD, server } from '../helpers/world.js';

/** A cluster relay as a real `burrow relay --cluster` process, to be SIGKILLed. */
async function relayProcess(t: ExecutionContext, w: ClusterWorld, id: string, heartbeatSeconds = 1): Promise<{ proc: CliProcess; relay: ClusterRelay }> {
  const proc = spawnCli(t, [
    'relay', '--host', '127.0.0.1', '--client-port', '0', '--skeleton-port', '0', '--keys', join(w.dir, 'keys'), '--users', join(w.dir, 'users.json'),
    '--cluster', w.redis.url, '--cluster-id', id, '--cluster-heartbeat', String(heartbeatSeconds),
  ]);
  const m = await proc.waitForLine(RELAY_READY);
  await proc.waitForLine(new RegExp(`^cluster member ${id}, advertised to skeletons as 127\\.0\\.0\\.1:\\d+, shared state connected$`));
  const fingerprint = w.identity.fingerprint;
  const relay = { clientTarget: { host: '127.0.0.1', port: Number(m[2]), fingerprint }, skeletonTarget: { host: '127.0.0.1', port: Number(m[3]), fingerprint } } as ClusterRelay;
  return { proc, relay };
}

test('kill one relay: the server stays reachable through the other within 5 s', async (t) => {
  const w = await startClusterWorld(t, 1);
  const a = w.relays[0]!;
  const { proc, relay: b } = await relayProcess(t, w, 'b');
  const echo = await echoServer(t);
  const secret = newSecret();
  const skeleton = await clusterSkeleton(t, [b, a], [server('echo', echo.port, secret)]);
  t.is(skeleton.runtimes.length, 2);
  // Both control channels advertised: the skeleton is attached to A too.
  await new Promise<void>((resolve) => {
    if (a.relay.runtime.core.state.registry.get('echo')) resolve();
    else skeleton.runtimes[1]!.once('advertised', () => resolve());
  });
  const client = await clusterClient(t, [b, a]);
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

test('a holding relay that died within its TTL is skipped: the dial goes to the next relay holding the server', async (t) => {
  // In-process relays with a longer heartbeat (60 s) sort after the process relay (10 s) in the live-relay
  // set (by expiry, three heartbeats), so the dead one is the first holder a lookup finds; it stays listed
  // for 30 s after its last refresh, longer than a login and an open take on a loaded machine.
  const w = await startClusterWorld(t, 2, { heartbeatMs: 60_000 });
  const [a, b] = [w.relays[0]!, w.relays[1]!];
  const { proc, relay: c } = await relayProcess(t, w, 'c', 10);
  const echo = await echoServer(t);
  const secret = newSecret();
  const skeleton = await clusterSkeleton(t, [c, b], [server('echo', echo.port, secret)]);
  // Both relays accepted the Advertise, so both registrations are in Redis (a claim publishes at once).
  await Promise.all(skeleton.runtimes.map((r) => (r === skeleton.runtime ? undefined : once(r, 'advertised'))));
  proc.child.kill('SIGKILL');
  await proc.exited;
  const client = await clusterClient(t, [a]);
  const payload = randomBytes(8192);
  t.true((await sendAndCollect(await client.open('echo', { secret }), payload)).equals(payload));
  // The dead relay was still listed as live, and first: the open went past it.
  const redis = new Redis(w.redis.url);
  t.teardown(() => redis.disconnect());
  const live = await redis.zrangebyscore('burrow:relays', Date.now(), '+inf');
  t.is(live[0], 'c');
  t.true(live.includes('r1'));
});

test('the commands take several relays: client list goes past a dead address, the skeleton serves through both', async (t) => {
  const w = await startClusterWorld(t, 2);
  const [a, b] = [w.relays[0]!, w.relays[1]!];
  const echo = await echoServer(t);
  const secretFile = join(w.dir, 'echo.secret');
  await writeFile(secretFile, newSecret().reveal().toString('base64url') + '\n', { mode: 0o600 });
  const env = { BURROW_PASSWORD: PASSWORD };
  const fp = w.identity.fingerprint;
  const skeleton = spawnCli(t, ['skeleton', '--relay', `127.0.0.1:${a.skeletonTarget.port},127.0.0.1:${b.skeletonTarget.port}`, '--fingerprint', fp, '--user', 'home',
    '--server', `echo=127.0.0.1:${echo.port},secret-file=${secretFile}`], { env });
  await skeleton.waitForLine(new RegExp(`^skeleton serving echo through 127\\.0\\.0\\.1:${a.skeletonTarget.port}, 127\\.0\\.0\\.1:${b.skeletonTarget.port}$`));
  // A relay address that answers nothing: a listener we hold that drops every connection.
  const dead = await listen(t, (socket) => socket.destroy());
  const listed = await runCli(['client', 'list', '--relay', `127.0.0.1:${dead},127.0.0.1:${b.clientTarget.port}`, '--fingerprint', fp, '--user', 'alice', '--json'], env);
  t.is(listed.code, 0, listed.stderr);
  t.deepEqual((JSON.parse(listed.stdout) as { id: string }[]).map((s) => s.id), ['echo']);
});
