import test from 'ava';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadUsers, parseRoles, parseUsersFile, saveUsers, UsersDb, validateUserName, type UserRecord } from '../../relay/users/users-file.js';

// A real argon2id hash (of a throwaway password), so fixtures need no hashing.
const HASH = '$argon2id$v=19$m=19456,t=2,p=1$51rQzZAYgM9ulVeQCB0smQ$HOVjyk1P/1r0QlUXQ3M+WZvF3Uoa63IOC//L2dUIWao';
const codeOf = (err: unknown): unknown => (err as { code?: unknown } | undefined)?.code;

async function tempDir(t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'burrow-users-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const alice: UserRecord = { hash: HASH, roles: ['client'], serve: [], access: ['web-*'], disabled: false, created: '2026-01-02T03:04:05.000Z' };
const home: UserRecord = { hash: HASH, roles: ['client', 'skeleton'], serve: ['home-*', 'mail'], access: ['*'], disabled: true };

function fileWith(users: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ version: 1, users, ...extra });
}

test('save then load round-trips; the file is 0600 and no temp file is left', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'users.json');
  const db = new UsersDb([['home', home], ['alice', alice]]);
  await saveUsers(path, db);
  t.is((await stat(path)).mode & 0o777, 0o600);
  t.deepEqual(await readdir(dir), ['users.json']);
  const loaded = await loadUsers(path);
  t.deepEqual(loaded.names(), ['alice', 'home']);
  t.deepEqual(loaded.get('alice'), alice);
  t.deepEqual(loaded.get('home'), home);
  t.is(loaded.get('bob'), undefined);
  db.delete('home');
  await saveUsers(path, db);
  t.deepEqual((await loadUsers(path)).names(), ['alice']);
});

test('optional fields default: serve and access empty, enabled, no created date', (t) => {
  const db = parseUsersFile('u.json', fileWith({ bob: { hash: HASH, roles: ['skeleton'] } }));
  t.deepEqual(db.get('bob'), { hash: HASH, roles: ['skeleton'], serve: [], access: [], disabled: false });
});

test('a missing file is ERR_CONFIG naming it, unless createIfMissing', async (t) => {
  const path = join(await tempDir(t), 'users.json');
  const err = await t.throwsAsync(loadUsers(path));
  t.is(codeOf(err), 'ERR_CONFIG');
  t.true(err?.message.includes(path));
  t.is((await loadUsers(path, { createIfMissing: true })).size, 0);
});

test('bad files are ERR_CONFIG naming the file, the user and the key', (t) => {
  const cases: Array<[string, string[]]> = [
    ['{"version":1,', []],
    ['[]', []],
    [fileWith({}, { extra: true }), ['extra']],
    [JSON.stringify({ version: 2, users: {} }), ['version']],
    [JSON.stringify({ version: 1, users: [] }), ['users']],
    [fileWith({ 'bad name': { hash: HASH, roles: ['client'] } }), ['bad name']],
    [fileWith({ bob: { hash: HASH, roles: ['client'], colour: 'red' } }), ['bob', 'colour']],
    [fileWith({ bob: { hash: 'plaintext', roles: ['client'] } }), ['bob', 'hash']],
    [fileWith({ bob: { hash: HASH, roles: [] } }), ['bob', 'roles']],
    [fileWith({ bob: { hash: HASH, roles: ['admin'] } }), ['bob', 'roles']],
    [fileWith({ bob: { hash: HASH, roles: ['client', 'client'] } }), ['bob', 'roles']],
    [fileWith({ bob: { hash: HASH, roles: ['client'], serve: ['web'] } }), ['bob', 'serve']],
    [fileWith({ bob: { hash: HASH, roles: ['skeleton'], access: ['web'] } }), ['bob', 'access']],
    [fileWith({ bob: { hash: HASH, roles: ['skeleton'], serve: ['we b'] } }), ['bob', 'serve']],
    [fileWith({ bob: { hash: HASH, roles: ['skeleton'], serve: 'web' } }), ['bob', 'serve']],
    [fileWith({ bob: { hash: HASH, roles: ['client'], disabled: 'no' } }), ['bob', 'disabled']],
    [fileWith({ bob: { hash: HASH, roles: ['client'], created: 'yesterday' } }), ['bob', 'created']],
    [fileWith({ bob: 'x' }), ['bob']],
  ];
  t.is(cases.length, 18);
  for (const [text, mentions] of cases) {
    const err = t.throws(() => parseUsersFile('/etc/burrow/users.json', text));
    t.is(codeOf(err), 'ERR_CONFIG', text);
    for (const word of ['/etc/burrow/users.json', ...mentions]) t.true(err?.message.includes(word), `${word} in ${err?.message}`);
  }
});

test('a file saved by hand with bad JSON never has its text quoted in the error', async (t) => {
  const path = join(await tempDir(t), 'users.json');
  await writeFile(path, fileWith({ bob: { hash: HASH, roles: ['client'] } }).slice(0, -3));
  const err = await t.throwsAsync(loadUsers(path));
  t.is(codeOf(err), 'ERR_CONFIG');
  t.false(err?.message.includes('argon2id'));
});

test('saved JSON has the documented shape and keys only', async (t) => {
  const path = join(await tempDir(t), 'users.json');
  await saveUsers(path, new UsersDb([['alice', alice]]));
  const json = JSON.parse(await readFile(path, 'utf8')) as { version: number; users: Record<string, Record<string, unknown>> };
  t.is(json.version, 1);
  t.deepEqual(Object.keys(json.users.alice ?? {}), ['hash', 'roles', 'serve', 'access', 'disabled', 'created']);
});

test('user names', (t) => {
  for (const name of ['alice', 'Bob.Smith', 'x', '0day', 'a_b-c', 'a'.repeat(64)]) t.notThrows(() => validateUserName(name), name);
  for (const name of ['', '-x', '.x', '_x', 'a b', 'a/b', 'a:b', 'a'.repeat(65), 'ä']) {
    t.is(codeOf(t.throws(() => validateUserName(name))), 'ERR_USAGE', name);
  }
});

test('roles: client, skeleton or both', (t) => {
  t.deepEqual(parseRoles('client'), ['client']);
  t.deepEqual(parseRoles('skeleton'), ['skeleton']);
  t.deepEqual(parseRoles('both'), ['client', 'skeleton']);
  t.is(codeOf(t.throws(() => parseRoles('admin'))), 'ERR_USAGE');
});

test('conflictingName finds names equal ignoring case', (t) => {
  const db = new UsersDb([['Alice', alice]]);
  t.is(db.conflictingName('alice'), 'Alice');
  t.is(db.conflictingName('bob'), undefined);
});
