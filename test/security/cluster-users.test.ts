/**
 * Shared accounts against someone who can write to Redis but lacks the relay identity key: a record that
 * is unsigned or signed by another key is ignored on every relay (no account added, no password changed),
 * and a replayed older signed record does not roll a password change back.
 */
import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { Redis } from 'ioredis';
import { connect } from '../../client/index.js';
import { AccountKeys } from '../../relay/cluster/account-keys.js';
import { signUser, verifyUser } from '../../relay/cluster/signed-user.js';
import { hashPassword } from '../../relay/users/password-hash.js';
import { Redacted } from '../../shared/redacted.js';
import { startClusterWorld, type ClusterRelay } from '../helpers/cluster-world.js';
import { burrowUsers, usersUntil } from '../helpers/cluster-users.js';
import { PASSWORD } from '../helpers/world.js';

const login = (r: ClusterRelay, user: string, password: string) => connect({ relay: r.clientTarget, user, password: new Redacted(password) });

test('S5: account records written to Redis without the relay key are ignored everywhere: no forged account, no changed password', async (t) => {
  const w = await startClusterWorld(t, 2);
  const [a, b] = [w.relays[0]!, w.relays[1]!];
  const redis = new Redis(w.redis.url);
  t.teardown(() => redis.disconnect());
  const relayKeys = new AccountKeys(w.identity.privateKey, w.identity.publicKey);
  const genuine = await verifyUser(relayKeys, 'alice', (await redis.hget('burrow:users', 'alice')) ?? '');
  t.truthy(genuine?.record);
  // Reading Redis gives no hash to guess against: every stored hash is sealed.
  const stored = Object.values(await redis.hgetall('burrow:users'));
  t.is(stored.length, 2);
  t.false(stored.some((jws) => Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString().includes('$argon2')));
  const pair = generateKeyPairSync('ed25519');
  const other = new AccountKeys(pair.privateKey, pair.publicKey);
  const hash = await hashPassword(new Redacted('forged password'));
  const record = { hash, roles: ['client' as const], serve: [], access: ['*'], disabled: false };
  await redis.hset('burrow:users', {
    mallory: await signUser(other, { name: 'mallory', revision: Date.now(), record }),
    // A newer "alice" with the attacker's password, and one whose signature was cut off.
    alice: await signUser(other, { name: 'alice', revision: Date.now(), record }),
    eve: (await signUser(relayKeys, { name: 'eve', revision: 1, record })).replace(/\.[^.]*$/, '.'),
    // Signed with the relay key: taken, which shows each relay has read this batch.
    marker: await signUser(relayKeys, { name: 'marker', revision: 1, record }),
  });
  const loaded = [a, b].map((r) => usersUntil(r.relay.cluster!.link, (db) => db.has('marker')));
  await redis.publish('burrow:users-changed', '1');
  for (const db of await Promise.all(loaded)) {
    t.false(db.has('mallory'));
    t.false(db.has('eve'));
    t.not(db.get('alice')?.hash, hash);
  }
  // The relays put the genuine record back over the forged one.
  t.deepEqual(await verifyUser(relayKeys, 'alice', (await redis.hget('burrow:users', 'alice')) ?? ''), genuine);
  await t.throwsAsync(login(a, 'mallory', 'forged password'), { code: 'ERR_AUTH_FAILED' } as never);
  await t.throwsAsync(login(b, 'alice', 'forged password'), { code: 'ERR_AUTH_FAILED' } as never);
  const alice = await login(b, 'alice', PASSWORD);
  t.deepEqual(await alice.list(), []);
  alice.close();
});

test('S5: a replayed older signed account record does not roll back a password change', async (t) => {
  const w = await startClusterWorld(t, 2);
  const [a, b] = [w.relays[0]!, w.relays[1]!];
  const redis = new Redis(w.redis.url);
  t.teardown(() => redis.disconnect());
  const old = await redis.hget('burrow:users', 'alice');
  t.truthy(old);
  const heard = usersUntil(b.relay.cluster!.link, (db) => (db.get('alice')?.revision ?? 0) > 0);
  await burrowUsers(w.dir, a.usersFile, ['passwd', 'alice'], 'new password');
  await a.relay.reloadUsers();
  const changed = (await heard).get('alice')?.hash;
  const current = await redis.hget('burrow:users', 'alice');
  t.not(current, old);

  await redis.hset('burrow:users', 'alice', old!);
  const loaded = usersUntil(b.relay.cluster!.link, () => true);
  await redis.publish('burrow:users-changed', '1');
  t.is((await loaded).get('alice')?.hash, changed);
  const relayKeys = new AccountKeys(w.identity.privateKey, w.identity.publicKey);
  t.is((await verifyUser(relayKeys, 'alice', (await redis.hget('burrow:users', 'alice')) ?? ''))?.record?.hash, changed);
  await t.throwsAsync(login(b, 'alice', PASSWORD), { code: 'ERR_AUTH_FAILED' } as never);
  const alice = await login(b, 'alice', 'new password');
  t.deepEqual(await alice.list(), []);
  alice.close();
});
