/** Signed account records and the newest-wins book, without Redis. */
import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { CompactSign } from 'jose';
import { AccountKeys } from '../../relay/cluster/account-keys.js';
import { canonicalUser, signUser, verifyUser, type SharedUser } from '../../relay/cluster/signed-user.js';
import { UserBook } from '../../relay/cluster/user-book.js';
import type { UserRecord } from '../../relay/users/users-file.js';

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
