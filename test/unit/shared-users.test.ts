/** Signed account records and the newest-wins book, without Redis. */
import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { CompactSign } from 'jose';
import { canonicalUser, signUser, verifyUser, type SharedUser } from '../../relay/cluster/signed-user.js';
import { UserBook } from '../../relay/cluster/user-book.js';
import type { UserRecord } from '../../relay/users/users-file.js';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$51rQzZAYgM9ulVeQCB0smQ$HOVjyk1P/1r0QlUXQ3M+WZvF3Uoa63IOC//L2dUIWao';
const record: UserRecord = { hash: HASH, roles: ['client'], serve: [], access: ['*'], disabled: false };
const keys = generateKeyPairSync('ed25519');

test('a signed record verifies under the identity key only, for its own name only', async (t) => {
  const user: SharedUser = { name: 'alice', revision: 5, record };
  const jws = await signUser(keys.privateKey, user);
  t.deepEqual(await verifyUser(keys.publicKey, 'alice', jws), { ...user, record: { ...record, revision: 5 } });
  t.is(await verifyUser(keys.publicKey, 'mallory', jws), undefined);
  t.is(await verifyUser(generateKeyPairSync('ed25519').publicKey, 'alice', jws), undefined);
  t.is(await verifyUser(keys.publicKey, 'alice', jws.slice(0, -2) + (jws.endsWith('AA') ? 'BB' : 'AA')), undefined);
  t.is(await verifyUser(keys.publicKey, 'alice', 'not a jws'), undefined);
  // Signed by the right key but not as an account record (another type, or a bad record): refused.
  const wrongType = await new CompactSign(new TextEncoder().encode(canonicalUser(user))).setProtectedHeader({ alg: 'EdDSA', typ: 'burrow-ticket+jwt' }).sign(keys.privateKey);
  t.is(await verifyUser(keys.publicKey, 'alice', wrongType), undefined);
  const badRecord = await signUser(keys.privateKey, { name: 'alice', revision: 5, record: { ...record, hash: 'plain' } });
  t.is(await verifyUser(keys.publicKey, 'alice', badRecord), undefined);
  t.deepEqual(await verifyUser(keys.publicKey, 'alice', await signUser(keys.privateKey, { name: 'alice', revision: 6 })), { name: 'alice', revision: 6 });
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
