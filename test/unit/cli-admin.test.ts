import test from 'ava';
import { Command } from 'commander';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { registerKeysCommands } from '../../relay/cli-keys.js';
import { registerUsersCommands } from '../../relay/cli-users.js';
import { verifyPassword } from '../../relay/users/password-hash.js';
import { loadUsers } from '../../relay/users/users-file.js';
import { registerSecretCommand } from '../../shared/cli/cli-secret.js';
import { readSecretFile } from '../../shared/cli/secret-file.js';
import { FINGERPRINT_RE } from '../../shared/crypto/fingerprint.js';
import { loadRelayPublicKey } from '../../shared/crypto/relay-key-files.js';
import { Redacted } from '../../shared/redacted.js';

interface Run {
  stdout: string[];
  stderr: string[];
}

/** Runs `burrow <args>` in-process against an injected env and stdin (never a TTY here). */
async function burrow(args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<Run> {
  const out: Run = { stdout: [], stderr: [] };
  const ctx = {
    env: opts.env ?? {},
    stdout: (line: string) => out.stdout.push(line),
    stderr: (line: string) => out.stderr.push(line),
    stdin: Readable.from(opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)]),
  };
  const program = new Command().exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
  registerKeysCommands(program, ctx);
  registerUsersCommands(program, ctx);
  registerSecretCommand(program, ctx);
  await program.parseAsync(args, { from: 'user' });
  return out;
}

async function tempDir(t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'burrow-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const codeOf = (err: unknown): unknown => (err as { code?: unknown } | undefined)?.code;
const pw = (text: string): Redacted<string> => new Redacted(text);

test('keys generate prints only the fingerprint on stdout; keys fingerprint prints the same', async (t) => {
  const dir = join(await tempDir(t), 'keys');
  const generated = await burrow(['keys', 'generate', '--dir', dir]);
  t.is(generated.stdout.length, 1);
  const fp = generated.stdout[0] ?? '';
  t.regex(fp, FINGERPRINT_RE);
  t.true(generated.stderr.length > 0);
  t.is((await loadRelayPublicKey(dir)).fingerprint, fp);
  t.deepEqual((await burrow(['keys', 'fingerprint', '--dir', dir])).stdout, [fp]);
  t.is(codeOf(await t.throwsAsync(burrow(['keys', 'generate', '--dir', dir]))), 'ERR_CONFIG');
  const forced = await burrow(['keys', 'generate', '--dir', dir, '--force']);
  t.not(forced.stdout[0], fp);
});

test('keys commands read BURROW_KEYS_DIR; a flag beats the env twin', async (t) => {
  const base = await tempDir(t);
  const [a, b] = [join(base, 'a'), join(base, 'b')];
  const fromEnv = await burrow(['keys', 'generate'], { env: { BURROW_KEYS_DIR: a } });
  t.deepEqual((await burrow(['keys', 'fingerprint', '--dir', a])).stdout, fromEnv.stdout);
  const fromFlag = await burrow(['keys', 'generate', '--dir', b], { env: { BURROW_KEYS_DIR: a } });
  t.deepEqual((await burrow(['keys', 'fingerprint'], { env: { BURROW_KEYS_DIR: b } })).stdout, fromFlag.stdout);
  // A boolean twin set to 0 means false, so this must still refuse to overwrite.
  const err = await t.throwsAsync(burrow(['keys', 'generate'], { env: { BURROW_KEYS_DIR: a, BURROW_KEYS_FORCE: '0' } }));
  t.is(codeOf(err), 'ERR_CONFIG');
});

test('keys fingerprint without keys is ERR_CONFIG', async (t) => {
  const dir = await tempDir(t);
  t.is(codeOf(await t.throwsAsync(burrow(['keys', 'fingerprint', '--dir', dir]))), 'ERR_CONFIG');
});

test('secret generate prints 32 random bytes as 43 base64url characters', async (t) => {
  const [a, b] = [await burrow(['secret', 'generate']), await burrow(['secret', 'generate'])];
  t.is(a.stdout.length, 1);
  t.regex(a.stdout[0] ?? '', /^[A-Za-z0-9_-]{43}$/);
  t.is(Buffer.from(a.stdout[0] ?? '', 'base64url').length, 32);
  t.not(a.stdout[0], b.stdout[0]);
});

test('secret generate --out writes a 0600 file, prints nothing secret, refuses to overwrite', async (t) => {
  const path = join(await tempDir(t), 'web.secret');
  const run = await burrow(['secret', 'generate', '--out', path]);
  t.deepEqual(run.stdout, []);
  const text = (await readFile(path, 'utf8')).trim();
  t.false(run.stderr.some((line) => line.includes(text)));
  t.is((await stat(path)).mode & 0o777, 0o600);
  t.deepEqual((await readSecretFile(path)).reveal(), Buffer.from(text, 'base64url'));
  t.is(codeOf(await t.throwsAsync(burrow(['secret', 'generate', '--out', path]))), 'ERR_USAGE');
  t.is((await readFile(path, 'utf8')).trim(), text);
});

test('readSecretFile refuses missing, short, long and non-base64url files without quoting them', async (t) => {
  const dir = await tempDir(t);
  t.is(codeOf(await t.throwsAsync(readSecretFile(join(dir, 'missing')))), 'ERR_CONFIG');
  const bad = ['', 'c2VjcmV0LXNob3J0', 'A'.repeat(44), Buffer.alloc(32, 7).toString('base64'), 'not+base64url/at all!!!!!!!!!!!!!!!!!!!!!!'];
  for (const [i, content] of bad.entries()) {
    const path = join(dir, `s${i}`);
    await writeFile(path, content);
    const err = await t.throwsAsync(readSecretFile(path));
    t.is(codeOf(err), 'ERR_CONFIG', content);
    if (content !== '') t.false(err?.message.includes(content));
  }
});

test('users add, list, passwd, disable, enable, remove', async (t) => {
  const users = join(await tempDir(t), 'users.json');
  const env = { BURROW_PASSWORD: 'hunter2 hunter2' };
  await burrow(['users', 'add', 'alice', '--role', 'client', '--access', 'web-*', '--access', 'mail,ssh', '--users', users], { env });
  await burrow(['users', 'add', 'home', '--role', 'both', '--serve', 'home-*', '--users', users], { stdin: 'from stdin\nignored\n', env: { BURROW_PASSWORD_STDIN: '1' } });
  t.is((await stat(users)).mode & 0o777, 0o600);

  let db = await loadUsers(users);
  t.deepEqual(db.get('alice')?.access, ['web-*', 'mail', 'ssh']);
  t.deepEqual(db.get('home')?.roles, ['client', 'skeleton']);
  t.true(await verifyPassword(db.get('alice')?.hash, pw('hunter2 hunter2')));
  t.true(await verifyPassword(db.get('home')?.hash, pw('from stdin')));

  const listed = await burrow(['users', 'list', '--json', '--users', users]);
  const rows = JSON.parse(listed.stdout.join('\n')) as Array<Record<string, unknown>>;
  t.deepEqual(rows.map((r) => r.name), ['alice', 'home']);
  t.false(listed.stdout.join('\n').includes('argon2'));
  const table = await burrow(['users', 'list'], { env: { BURROW_USERS: users } });
  t.is(table.stdout.length, 3);
  t.false(table.stdout.join('\n').includes('argon2'));

  const pwFile = join(await tempDir(t), 'pw');
  await writeFile(pwFile, 'new password\r\nsecond line\n');
  await burrow(['users', 'passwd', 'alice', '--password-file', pwFile, '--users', users]);
  db = await loadUsers(users);
  t.true(await verifyPassword(db.get('alice')?.hash, pw('new password')));
  t.false(await verifyPassword(db.get('alice')?.hash, pw('hunter2 hunter2')));

  await burrow(['users', 'disable', 'alice', '--users', users]);
  t.true((await loadUsers(users)).get('alice')?.disabled);
  await burrow(['users', 'enable', 'alice', '--users', users]);
  t.false((await loadUsers(users)).get('alice')?.disabled);
  await burrow(['users', 'remove', 'home', '--users', users]);
  t.deepEqual((await loadUsers(users)).names(), ['alice']);
});

test('users add refuses bad input with ERR_USAGE and leaves the file alone', async (t) => {
  const users = join(await tempDir(t), 'users.json');
  const env = { BURROW_PASSWORD: 'pw' };
  await burrow(['users', 'add', 'alice', '--role', 'client', '--users', users], { env });
  const before = await readFile(users, 'utf8');
  const attempts: string[][] = [
    ['users', 'add', 'alice', '--role', 'client'],
    ['users', 'add', 'ALICE', '--role', 'client'],
    ['users', 'add', 'bob'],
    ['users', 'add', 'bob', '--role', 'admin'],
    ['users', 'add', 'bob', '--role', 'client', '--serve', 'web'],
    ['users', 'add', 'bob', '--role', 'skeleton', '--access', 'web'],
    ['users', 'add', 'bob', '--role', 'skeleton', '--serve', 'we?b'],
    ['users', 'add', 'bob smith', '--role', 'client'],
    ['users', 'add', '--role', 'client', '--', '-bob'],
    ['users', 'passwd', 'nobody'],
    ['users', 'remove', 'nobody'],
    ['users', 'disable', 'nobody'],
    ['users', 'enable', 'nobody'],
  ];
  for (const args of attempts) {
    const [group = '', verb = '', ...rest] = args;
    const err = await t.throwsAsync(burrow([group, verb, '--users', users, ...rest], { env }));
    t.is(codeOf(err), 'ERR_USAGE', args.join(' '));
  }
  t.is(await readFile(users, 'utf8'), before);
});

test('without a password source and without a terminal, add is ERR_USAGE; an empty password file is ERR_CONFIG', async (t) => {
  const dir = await tempDir(t);
  const users = join(dir, 'users.json');
  const noSource = await t.throwsAsync(burrow(['users', 'add', 'bob', '--role', 'client', '--users', users]));
  t.is(codeOf(noSource), 'ERR_USAGE');
  const empty = join(dir, 'empty');
  await writeFile(empty, '\n');
  const emptyErr = await t.throwsAsync(burrow(['users', 'add', 'bob', '--role', 'client', '--users', users, '--password-file', empty]));
  t.is(codeOf(emptyErr), 'ERR_CONFIG');
  const missing = await t.throwsAsync(burrow(['users', 'add', 'bob', '--role', 'client', '--users', users, '--password-file', join(dir, 'nope')]));
  t.is(codeOf(missing), 'ERR_CONFIG');
  await t.throwsAsync(stat(users));
});

test('users list on a missing file is ERR_CONFIG', async (t) => {
  const users = join(await tempDir(t), 'users.json');
  t.is(codeOf(await t.throwsAsync(burrow(['users', 'list', '--users', users]))), 'ERR_CONFIG');
});

test('users add --publish, then grant and revoke change what an existing account may publish; a bare port is refused', async (t) => {
  const dir = await tempDir(t);
  const users = join(dir, 'users.json');
  await burrow(['users', 'add', 'web', '--role', 'skeleton', '--serve', 'web-*', '--publish', 'tcp:20000-20099', '--password-stdin', '--users', users], { stdin: 'pw\n' });
  t.deepEqual((await loadUsers(users)).get('web')?.publish, ['tcp:20000-20099']);
  await burrow(['users', 'grant', 'web', '--publish', '*.Home.Example.net', '--publish', 'tcp:25', '--users', users]);
  t.deepEqual((await loadUsers(users)).get('web')?.publish, ['tcp:20000-20099', '*.home.example.net', 'tcp:25']);
  await burrow(['users', 'revoke', 'web', '--publish', 'tcp:20000-20099', '--users', users]);
  t.deepEqual((await loadUsers(users)).get('web')?.publish, ['*.home.example.net', 'tcp:25']);
  const bare = await t.throwsAsync(burrow(['users', 'grant', 'web', '--publish', '20025', '--users', users]));
  t.is((bare as { code?: string }).code, 'ERR_USAGE');
  const client = await t.throwsAsync(burrow(['users', 'add', 'eve', '--role', 'client', '--publish', 'tcp:25', '--password-stdin', '--users', users], { stdin: 'pw\n' }));
  t.is((client as { code?: string }).code, 'ERR_USAGE');
});
