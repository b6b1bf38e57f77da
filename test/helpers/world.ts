/**
 * A whole burrow on loopback for end-to-end tests: temp keys and users, a relay on port 0, skeletons
 * fronting real local servers, clients. Everything registers its own teardown.
 */
import type { ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type BurrowClient } from '../../client/index.js';
import { startRelay, type RelayHandle, type RelayOptions } from '../../relay/index.js';
import { hashPassword } from '../../relay/users/password-hash.js';
import { saveUsers, UsersDb, type UserRecord } from '../../relay/users/users-file.js';
import { generateRelayKeys, type RelayIdentity } from '../../shared/crypto/relay-key-files.js';
import type { Logger } from '../../shared/log.js';
import type { RelayTarget } from '../../shared/peer/relay-address.js';
import { Redacted } from '../../shared/redacted.js';
import { startSkeleton, type SkeletonHandle, type SkeletonServer } from '../../skeleton/index.js';

export interface UserSpec {
  roles: ('client' | 'skeleton')[];
  serve?: string[];
  access?: string[];
  publish?: string[];
  disabled?: boolean;
}

export const PASSWORD = 'correct horse battery staple';

export interface World {
  dir: string;
  usersFile: string;
  keysDir: string;
  identity: RelayIdentity;
  relay: RelayHandle;
  clientTarget: RelayTarget;
  skeletonTarget: RelayTarget;
}

export async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'burrow-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function writeUsers(path: string, users: Record<string, UserSpec>): Promise<void> {
  const db = new UsersDb();
  const hash = await hashPassword(new Redacted(PASSWORD));
  for (const [name, spec] of Object.entries(users)) {
    const record: UserRecord = { hash, roles: spec.roles, serve: spec.serve ?? [], access: spec.access ?? [], ...(spec.publish ? { publish: spec.publish } : {}), disabled: spec.disabled ?? false };
    db.set(name, record);
  }
  await saveUsers(path, db);
}

export const DEFAULT_USERS: Record<string, UserSpec> = {
  alice: { roles: ['client'], access: ['*'] },
  home: { roles: ['skeleton'], serve: ['*'] },
};

export async function startWorld(
  t: ExecutionContext, opts: { users?: Record<string, UserSpec>; relay?: Partial<RelayOptions>; log?: Logger } = {},
): Promise<World> {
  const dir = await tempDir(t);
  const keysDir = join(dir, 'keys');
  const usersFile = join(dir, 'users.json');
  const identity = await generateRelayKeys(keysDir);
  await writeUsers(usersFile, opts.users ?? DEFAULT_USERS);
  // The admin HTTP on a free port, so parallel relays never race for 7002.
  const relay = await startRelay({ host: '127.0.0.1', clientPort: 0, skeletonPort: 0, admin: { host: '127.0.0.1', port: 0 }, identity, usersFile, ...(opts.log ? { log: opts.log } : {}), ...opts.relay });
  t.teardown(() => relay.close({ drainMs: 0 }));
  const fingerprint = identity.fingerprint;
  const host = opts.relay?.host ?? '127.0.0.1';
  return {
    dir, usersFile, keysDir, identity, relay,
    clientTarget: { host, port: relay.addresses.client.port, fingerprint },
    skeletonTarget: { host, port: relay.addresses.skeleton.port, fingerprint },
  };
}

/**
 * A loopback address of its own for a test's public listeners (127.0.0.0/8 all reaches this host): tcp
 * publications name fixed ports, and parallel tests must never race for one.
 */
export function privateLoopback(): string {
  const b = randomBytes(3);
  return `127.${b[0]! % 254 + 1}.${b[1]}.${b[2]! % 253 + 2}`;
}

export function newSecret(): Redacted<Buffer> {
  return new Redacted(randomBytes(32));
}

export async function listenLocal(t: ExecutionContext, onConnection: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { server, port: (server.address() as AddressInfo).port };
}

/** A TCP echo server: every byte comes back; half-close is honoured. */
export async function echoServer(t: ExecutionContext): Promise<{ port: number; connections: () => number }> {
  let count = 0;
  const { port } = await listenLocal(t, (socket) => {
    count++;
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  return { port, connections: () => count };
}

export async function startTestSkeleton(
  t: ExecutionContext, world: World, servers: SkeletonServer[], opts: { user?: string; pool?: number; log?: Logger; instance?: string } = {},
): Promise<SkeletonHandle> {
  const skeleton = await startSkeleton({
    relay: world.skeletonTarget, user: opts.user ?? 'home', password: new Redacted(PASSWORD), servers,
    ...(opts.pool !== undefined ? { pool: opts.pool } : {}), ...(opts.log ? { log: opts.log } : {}), ...(opts.instance ? { instance: opts.instance } : {}),
  });
  t.teardown(() => skeleton.close());
  return skeleton;
}

export async function connectTestClient(t: ExecutionContext, world: World, opts: { user?: string; password?: string } = {}): Promise<BurrowClient> {
  const client = await connect({ relay: world.clientTarget, user: opts.user ?? 'alice', password: new Redacted(opts.password ?? PASSWORD) });
  t.teardown(() => client.close());
  return client;
}

export function server(id: string, port: number, secret: Redacted<Buffer>, extra: Partial<SkeletonServer> = {}): SkeletonServer {
  return { id, host: '127.0.0.1', port, secret, description: `test server ${id}`, protocol: 'tcp', ...extra };
}
