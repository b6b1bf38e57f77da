/** Signed account records and the newest-wins book, without Redis. */
import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { CompactSign } from 'jose';
import { AccountKeys } from '../../relay/cluster/account-keys.js';
import { canonicalUser, signUser, verifyUser, type SharedUser } from '../../relay/cluster/signed-user.js';
import { UserBook } from '../../relay/cluster/user-book.js';
import { UserSync } from '../../relay/cluster/user-sync.js';
import { UsersDb, type UserRecord } from '../../relay/users/users-file.js';
import { silentLogger, type Logger } from '../../shared/log.js';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$51rQzZAYgM9ulVeQCB0smQ$HOVjyk1P/1r0QlUXQ3M+WZvF3Uoa63IOC//L2dUIWao';
const record: UserRecord = { hash: HASH, roles: ['client'], serve: [], access: ['*'], disabled: false };
const newKeys = (): AccountKeys => {
  const pair = generateKeyPairSync('ed25519');
  return new AccountKeys(pair.privateKey, pair.publicKey);
};
const keys = newKeys();

test('a signed record verifies under the identity key only, for its own name only', async (t) => {
  const user: SharedUser = { name: 'alice', revision: 5, record };
  const jws = await signUser(keys, user);
  t.deepEqual(await verifyUser(keys, 'alice', jws), { ...user, record: { ...record, revision: 5 } });
  t.is(await verifyUser(keys, 'mallory', jws), undefined);
  t.is(await verifyUser(newKeys(), 'alice', jws), undefined);
  t.is(await verifyUser(keys, 'alice', jws.slice(0, -2) + (jws.endsWith('AA') ? 'BB' : 'AA')), undefined);
  t.is(await verifyUser(keys, 'alice', 'not a jws'), undefined);
  // The hash travels sealed: the signed payload never holds it readable.
  t.false(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString().includes('$argon2id'));
  // Signed by the right key but not as an account record (another type, or a bad record): refused.
  const sign = (payload: string, typ: string) => new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: 'EdDSA', typ }).sign(keys.privateKey);
  t.is(await verifyUser(keys, 'alice', await sign(canonicalUser(user), 'burrow-ticket+jwt')), undefined);
  // Right key and type, but the hash in the clear (or sealed for another name): refused.
  t.is(await verifyUser(keys, 'alice', await sign(canonicalUser(user), 'burrow-user+jws')), undefined);
  const sealedForBob = JSON.stringify({ name: 'alice', revision: 5, sealedHash: keys.sealHash('bob', HASH), roles: ['client'], serve: [], access: ['*'], disabled: false });
  t.is(await verifyUser(keys, 'alice', await sign(sealedForBob, 'burrow-user+jws')), undefined);
  const badRecord = await signUser(keys, { name: 'alice', revision: 5, record: { ...record, hash: 'plain' } });
  t.is(await verifyUser(keys, 'alice', badRecord), undefined);
  t.deepEqual(await verifyUser(keys, 'alice', await signUser(keys, { name: 'alice', revision: 6 })), { name: 'alice', revision: 6 });
});

test('the book keeps the newest revision per name, never goes back, and hides tombstones', (t) => {
  const book = new UserBook();
  t.true(book.offer({ name: 'alice', revision: 5, record }));
  t.false(book.offer({ name: 'alice', revision: 4, record: { ...record, disabled: true } }));
  t.false(book.view().get('alice')?.disabled);
  const tomb = book.tombstone('alice', 1);
  t.is(tomb.revision, 6);
  t.true(book.offer(tomb));
  t.false(book.view().has('alice'));
  t.false(book.offer({ name: 'alice', revision: 5, record }));
  t.deepEqual(book.names(), ['alice']);
});

test('equal revisions with different content: every relay picks the same one, whatever the order', (t) => {
  const one: SharedUser = { name: 'alice', revision: 9, record };
  const two: SharedUser = { name: 'alice', revision: 9, record: { ...record, disabled: true } };
  const first = new UserBook();
  first.offer(one);
  first.offer(two);
  const second = new UserBook();
  second.offer(two);
  second.offer(one);
  t.deepEqual(first.view().get('alice'), second.view().get('alice'));
  t.true(first.isNewest(second.newest('alice')!));
});

test('at equal revisions a removal beats a disabled account, which beats an enabled one', (t) => {
  const book = new UserBook();
  book.offer({ name: 'alice', revision: 9, record });
  t.true(book.offer({ name: 'alice', revision: 9, record: { ...record, disabled: true } }));
  t.false(book.offer({ name: 'alice', revision: 9, record: { ...record, hash: HASH.replace('51rQ', 'zzzz') } }));
  t.true(book.offer({ name: 'alice', revision: 9 }));
  t.false(book.view().has('alice'));
});

/** A cluster store in memory: the three Redis calls UserSync makes, counted. */
function memoryStore() {
  const hash = new Map<string, string>();
  const counts = { writes: 0, announcements: 0 };
  return {
    counts, hash,
    store: {
      hgetall: async () => Object.fromEntries(hash),
      hset: async (_key: string, values: Record<string, string>) => {
        counts.writes++;
        for (const [k, v] of Object.entries(values)) hash.set(k, v);
        return 0;
      },
      publish: async () => {
        counts.announcements++;
        return 0;
      },
    } as unknown as ConstructorParameters<typeof UserSync>[0],
  };
}

test('two relays with different identity keys on one store do not overwrite each other in a loop: repairs back off and it is reported once', async (t) => {
  const { store, counts } = memoryStore();
  let clock = 0;
  const errors: string[] = [];
  const log = Object.assign(Object.create(silentLogger()) as Logger, { error: (_fields: unknown, msg: string) => void errors.push(msg) });
  const file = new UsersDb([['alice', record]]);
  const [a, b] = [newKeys(), newKeys()].map((k, i) => {
    const sync = new UserSync(store, `relay-${i}`, k, log, () => undefined, () => clock);
    sync.fileChanged(file, undefined, 0);
    return sync;
  });
  // Each load is what the other's announcement triggers: 40 rounds within one second, then more later.
  for (let round = 0; round < 40; round++) {
    await a!.load();
    await b!.load();
    clock += 25;
  }
  t.true(counts.writes <= 4, `writes within the first second: ${counts.writes}`);
  t.true(errors.length >= 1 && errors.length <= 2, `the fight is reported, at most once per relay (${errors.length})`);
  t.regex(errors[0] ?? '', /another identity key/);
  const reported = errors.length;
  // Later they still try now and then (a forged record gets repaired), ever more slowly.
  const before = counts.writes;
  for (let round = 0; round < 40; round++) {
    await a!.load();
    await b!.load();
    clock += 1_000;
  }
  t.true(counts.writes - before <= 12, `writes over the next 40 s: ${counts.writes - before}`);
  t.true(errors.length <= 2 && errors.length >= reported, `still at most one report per relay (${errors.length})`);
});
