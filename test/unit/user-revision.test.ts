/** Per-record revisions in the users file: old files load as 0, bad values are refused, every change bumps them. */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setUserDisabled } from '../../relay/users/set-disabled.js';
import { loadUsers, nextRevision, parseUsersFile, revisionOf, saveUsers, UsersDb, type UserRecord } from '../../relay/users/users-file.js';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$51rQzZAYgM9ulVeQCB0smQ$HOVjyk1P/1r0QlUXQ3M+WZvF3Uoa63IOC//L2dUIWao';
const OTHER_HASH = '$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$HOVjyk1P/1r0QlUXQ3M+WZvF3Uoa63IOC//L2dUIWao';
const alice: UserRecord = { hash: HASH, roles: ['client'], serve: [], access: ['*'], disabled: false };
const fileWith = (record: Record<string, unknown>): string => JSON.stringify({ version: 1, users: { alice: { ...alice, ...record } } });

test('a file without revisions loads as revision 0; a revision round-trips; bad revisions are ERR_CONFIG', async (t) => {
  t.is(revisionOf(parseUsersFile('f', fileWith({})).get('alice')), 0);
  t.is(parseUsersFile('f', fileWith({ revision: 42 })).get('alice')?.revision, 42);
  for (const bad of [-1, 1.5, '7', Number.MAX_SAFE_INTEGER + 1]) {
    t.throws(() => parseUsersFile('f', fileWith({ revision: bad })), { code: 'ERR_CONFIG' } as never, String(bad));
  }
  const dir = await mkdtemp(join(tmpdir(), 'burrow-rev-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'users.json');
  await saveUsers(path, new UsersDb([['alice', { ...alice, revision: 7 }]]));
  t.is((await loadUsers(path)).get('alice')?.revision, 7);
});

test('revisions only grow: the time, or one more than the last when the clock is behind', (t) => {
  t.is(nextRevision(0, 1_000), 1_000);
  t.is(nextRevision(5_000, 1_000), 5_001);
});

test('disable bumps the revision and acts on a newer effective record, not the stale file one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'burrow-rev-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'users.json');
  await saveUsers(path, new UsersDb([['alice', { ...alice, revision: 3 }]]));
  const newer: UserRecord = { ...alice, hash: OTHER_HASH, revision: Date.now() + 60_000 };
  t.is(await setUserDisabled(path, 'alice', true, newer), 'changed');
  const saved = (await loadUsers(path)).get('alice');
  t.is(saved?.hash, OTHER_HASH);
  t.true(saved?.disabled);
  t.true(revisionOf(saved) > revisionOf(newer));
  t.is(await setUserDisabled(path, 'alice', true), 'unchanged');
  t.is(await setUserDisabled(path, 'nobody', true), 'unknown');
});
