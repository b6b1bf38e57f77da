/**
 * A relay cluster on loopback: one real redis-server, N relays in-process sharing one identity (same
 * keys), each with its own copy of the users file (each relay publishes its records; accounts are shared).
 */
import type { ExecutionContext } from 'ava';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, type BurrowClient } from '../../client/index.js';
import { startRelay, type RelayHandle, type RelayOptions } from '../../relay/index.js';
import { generateRelayKeys, type RelayIdentity } from '../../shared/crypto/relay-key-files.js';
import type { RelayTarget } from '../../shared/peer/relay-address.js';
import { Redacted } from '../../shared/redacted.js';
import { startSkeleton, type SkeletonHandle, type SkeletonServer } from '../../skeleton/index.js';
import { TestRedis } from './redis-server.js';
import { DEFAULT_USERS, PASSWORD, tempDir, writeUsers, type UserSpec } from './world.js';

export interface ClusterRelay {
  id: string;
  relay: RelayHandle;
  usersFile: string;
  clientTarget: RelayTarget;
  skeletonTarget: RelayTarget;
}

export interface ClusterWorld {
  redis: TestRedis;
  identity: RelayIdentity;
  relays: ClusterRelay[];
  dir: string;
}

export async function startClusterRelay(
  t: ExecutionContext, w: Pick<ClusterWorld, 'redis' | 'identity' | 'dir'>, id: string, extra: Partial<RelayOptions> = {}, heartbeatMs = 500,
): Promise<ClusterRelay> {
  const usersFile = join(w.dir, `users-${id}.json`);
  await copyFile(join(w.dir, 'users.json'), usersFile);
  const relay = await startRelay({
    host: '127.0.0.1', clientPort: 0, skeletonPort: 0, admin: 'off', identity: w.identity, usersFile,
    cluster: { url: w.redis.url, relayId: id, heartbeatMs, retryMaxMs: 300 }, ...extra,
  });
  t.teardown(() => relay.close({ drainMs: 0 }));
  const fingerprint = w.identity.fingerprint;
  return {
    id, relay, usersFile,
    clientTarget: { host: '127.0.0.1', port: relay.addresses.client.port, fingerprint },
    skeletonTarget: { host: '127.0.0.1', port: relay.addresses.skeleton.port, fingerprint },
  };
}

export async function startClusterWorld(
  t: ExecutionContext, n: number,
  opts: { users?: Record<string, UserSpec>; relay?: Partial<RelayOptions> | ((index: number) => Partial<RelayOptions>); heartbeatMs?: number } = {},
): Promise<ClusterWorld> {
  const redis = await TestRedis.start(t);
  const dir = await tempDir(t);
  const identity = await generateRelayKeys(join(dir, 'keys'));
  await writeUsers(join(dir, 'users.json'), opts.users ?? DEFAULT_USERS);
  const world = { redis, identity, dir };
  const relays: ClusterRelay[] = [];
  for (let i = 0; i < n; i++) {
    // Options per relay when each needs its own (say, the address its public listeners bind).
    const extra = typeof opts.relay === 'function' ? opts.relay(i) : opts.relay;
    relays.push(await startClusterRelay(t, world, `r${i}`, extra, opts.heartbeatMs));
  }
  return { ...world, relays };
}

export async function clusterSkeleton(t: ExecutionContext, relays: ClusterRelay[], servers: SkeletonServer[], opts: { user?: string; pool?: number } = {}): Promise<SkeletonHandle> {
  const skeleton = await startSkeleton({
    relay: relays.map((r) => r.skeletonTarget), user: opts.user ?? 'home', password: new Redacted(PASSWORD), servers, ...(opts.pool !== undefined ? { pool: opts.pool } : {}),
  });
  t.teardown(() => skeleton.close());
  return skeleton;
}

export async function clusterClient(t: ExecutionContext, relays: ClusterRelay[], user = 'alice'): Promise<BurrowClient> {
  const client = await connect({ relay: relays.map((r) => r.clientTarget), user, password: new Redacted(PASSWORD) });
  t.teardown(() => client.close());
  return client;
}
