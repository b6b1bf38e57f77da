/**
 * `burrow users add|list|remove|passwd|disable|enable`: edit the relay's users file. Every change loads the
 * file, validates, and writes it back atomically; a running relay picks it up on reload.
 */
import { grantProblem } from './users/publish-grant.js';
import { changeGrants, GRANT_EXAMPLES, grantOptions, REVOKE_EXAMPLES } from './cli-users-grants.js';
import { Command, Option } from 'commander';
import { withExamples } from '../shared/cli/help-examples.js';
import { COMMAND_SUMMARIES } from '../shared/cli/command-summaries.js';
import { cliContext, useEnvTwins, type CliContext } from '../shared/cli/cli-context.js';
import { readPassword } from '../shared/cli/read-password.js';
import { formatUsersTable, usersForListing } from './users/users-listing.js';
import { BurrowError } from '../shared/errors.js';
import type { Redacted } from '../shared/redacted.js';
import { validatePattern } from './users/id-pattern.js';
import { loadUsers, nextRevision, parseRoles, revisionOf, saveUsers, validateUserName, type UserRecord, type UsersDb } from './users/users-file.js';

export const DEFAULT_USERS_FILE = 'users.json';

const USER_EXAMPLES: Record<string, string[]> = {
  add: [
    "burrow users add home --role skeleton --serve 'home-*'             # asks for the password twice",
    "burrow users add alice --role client --access 'home-http' --access 'home-ssh'",
    "burrow users add ci --role client --access 'home-*' --password-stdin < ci.pass",
    "burrow users add web --role skeleton --serve 'web-*' --publish '*.home.example.net' --publish tcp:25   # may publish to the public",
  ],
  list: ['burrow users list --users /var/lib/burrow/users.json', 'burrow users list --json'],
  remove: ['burrow users remove alice'],
  passwd: ['burrow users passwd alice', 'burrow users passwd alice --password-file new.pass'],
  disable: ['burrow users disable alice   # a running relay ends her sessions at once'],
  enable: ['burrow users enable alice'],
  grant: GRANT_EXAMPLES,
  revoke: REVOKE_EXAMPLES,
};

interface FileOpts {
  users: string;
}
interface PasswordOpts extends FileOpts {
  passwordFile?: string;
  passwordStdin?: boolean;
}
interface AddOpts extends PasswordOpts {
  role?: string;
  serve?: string[];
  access?: string[];
  publish?: string[];
}

/** Repeatable pattern options: each use adds one or more comma-separated patterns. */
function collectPatterns(value: string, previous: string[] | undefined): string[] {
  const added = value.split(',').map((p) => p.trim()).filter((p) => p !== '');
  return [...(previous ?? []), ...added];
}

/** argon2, a native addon, is loaded once a password is hashed, not for every `burrow` command. */
async function hashPassword(password: Redacted<string>): Promise<string> {
  return (await import('./users/password-hash.js')).hashPassword(password);
}

export function registerUsersCommands(program: Command, overrides: Partial<CliContext> = {}): Command {
  const ctx = cliContext(overrides);
  const users = withExamples(
    program.command('users').description(COMMAND_SUMMARIES.users.summary),
    "burrow users add alice --role client --access 'home-*' --users /var/lib/burrow/users.json",
    'burrow users list --users /var/lib/burrow/users.json',
  );
  const sub = (name: string, description: string): Command => {
    const cmd = withExamples(users.command(name).description(description), ...(USER_EXAMPLES[name] ?? []));
    cmd.addOption(new Option('--users <file>', 'users file').env('BURROW_USERS').default(DEFAULT_USERS_FILE));
    return useEnvTwins(cmd, ctx.env);
  };
  const passwordOptions = (cmd: Command): Command =>
    cmd
      .addOption(new Option('--password-file <file>', 'read the password from the first line of this file').env('BURROW_PASSWORD_FILE'))
      .addOption(new Option('--password-stdin', 'read the password from the first line of stdin').env('BURROW_PASSWORD_STDIN'));

  passwordOptions(sub('add', 'add a user (password from --password-file, --password-stdin, BURROW_PASSWORD or a prompt)'))
    .argument('<name>', 'user name')
    .addOption(new Option('--role <role>', 'client, skeleton or both (required)').env('BURROW_ROLE'))
    .addOption(new Option('--serve <pattern>', 'server ids a skeleton may advertise; * matches any run (repeatable)').env('BURROW_SERVE').argParser(collectPatterns))
    .addOption(new Option('--access <pattern>', 'server ids a client may list and open; * matches any run (repeatable)').env('BURROW_ACCESS').argParser(collectPatterns))
    .addOption(new Option('--publish <grant>', 'what a skeleton may publish: tcp:PORT[-PORT], udp:PORT[-PORT] or a host name pattern such as *.home.example.net (repeatable)').env('BURROW_PUBLISH').argParser(collectPatterns))
    .action((name: string, opts: AddOpts) => addUser(ctx, name, opts));

  sub('list', 'list users (never their hashes)')
    .addOption(new Option('--json', 'print JSON instead of a table').env('BURROW_JSON'))
    .action(async (opts: FileOpts & { json?: boolean }) => {
      const db = await loadUsers(opts.users);
      if (opts.json === true) {
        ctx.stdout(JSON.stringify(usersForListing(db), null, 2));
      } else if (db.size === 0) {
        ctx.stderr(`no users in ${opts.users}`);
      } else {
        for (const line of formatUsersTable(usersForListing(db))) ctx.stdout(line);
      }
    });

  sub('remove', 'remove a user')
    .argument('<name>', 'user name')
    .action((name: string, opts: FileOpts) =>
      editUser(opts.users, name, (db) => {
        db.delete(name);
        ctx.stdout(`removed user ${name}`);
      }),
    );

  passwordOptions(sub('passwd', "set a user's password"))
    .argument('<name>', 'user name')
    .action((name: string, opts: PasswordOpts) =>
      editUser(opts.users, name, async (db, record) => {
        const hash = await hashPassword(await askPassword(ctx, name, opts, true));
        db.set(name, { ...record, hash, revision: nextRevision(revisionOf(record), Date.now()) });
        ctx.stdout(`changed the password of ${name}`);
      }),
    );

  grantOptions(sub('grant', 'let an existing account serve, access or publish more'), collectPatterns)
    .action((name: string, opts: Parameters<typeof changeGrants>[2]) => changeGrants(ctx, name, opts, true));
  grantOptions(sub('revoke', 'take patterns or grants away from an existing account (a running relay withdraws them at once)'), collectPatterns)
    .action((name: string, opts: Parameters<typeof changeGrants>[2]) => changeGrants(ctx, name, opts, false));

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    sub(verb, disabled ? 'refuse logins of a user (ends its sessions on a running relay)' : 'allow logins of a disabled user again')
      .argument('<name>', 'user name')
      .action((name: string, opts: FileOpts) =>
        editUser(opts.users, name, (db, record) => {
          if (record.disabled !== disabled) db.set(name, { ...record, disabled, revision: nextRevision(revisionOf(record), Date.now()) });
          ctx.stdout(record.disabled === disabled ? `user ${name} was already ${verb}d` : `${verb}d user ${name}`);
        }),
      );
  }
  return users;
}

async function addUser(ctx: CliContext, name: string, opts: AddOpts): Promise<void> {
  validateUserName(name);
  if (opts.role === undefined) throw new BurrowError('ERR_USAGE', '--role is required: client, skeleton or both');
  const roles = parseRoles(opts.role);
  const serve = opts.serve ?? [];
  const access = opts.access ?? [];
  if (serve.length > 0 && !roles.includes('skeleton')) throw new BurrowError('ERR_USAGE', '--serve needs --role skeleton or both');
  if (access.length > 0 && !roles.includes('client')) throw new BurrowError('ERR_USAGE', '--access needs --role client or both');
  [...serve, ...access].forEach(validatePattern);
  const publish = opts.publish ?? [];
  if (publish.length > 0 && !roles.includes('skeleton')) throw new BurrowError('ERR_USAGE', '--publish needs --role skeleton or both');
  for (const grant of publish) {
    const problem = grantProblem(grant);
    if (problem) throw new BurrowError('ERR_USAGE', `--publish: ${problem}`);
  }

  const db = await loadUsers(opts.users, { createIfMissing: true });
  const existing = db.conflictingName(name);
  if (existing === name) throw new BurrowError('ERR_USAGE', `user ${name} already exists; use burrow users passwd ${name} to change its password`);
  if (existing !== undefined) throw new BurrowError('ERR_USAGE', `user ${existing} already exists and differs from ${name} only in case`);

  const hash = await hashPassword(await askPassword(ctx, name, opts, true));
  const record: UserRecord = { hash, roles, serve: unique(serve), access: unique(access), ...(publish.length > 0 ? { publish: unique(publish.map((g) => g.toLowerCase())) } : {}), disabled: false, created: new Date().toISOString(), revision: nextRevision(0, Date.now()) };
  db.set(name, record);
  await saveUsers(opts.users, db);
  ctx.stdout(`added user ${name} (${roles.join(', ')}) to ${opts.users}`);
  if (roles.includes('skeleton') && serve.length === 0) ctx.stderr(`note: ${name} may not serve any id yet (no --serve)`);
  if (roles.includes('client') && access.length === 0) ctx.stderr(`note: ${name} may not access any id yet (no --access)`);
}

/** Loads the file, runs `change` on an existing user, saves. An unknown user is a usage error. */
async function editUser(
  path: string,
  name: string,
  change: (db: UsersDb, record: UserRecord) => void | Promise<void>,
): Promise<void> {
  const db = await loadUsers(path);
  const record = db.get(name);
  if (record === undefined) throw new BurrowError('ERR_USAGE', `no user ${JSON.stringify(name)} in ${path}`);
  await change(db, record);
  await saveUsers(path, db);
}

function askPassword(ctx: CliContext, name: string, opts: PasswordOpts, confirm: boolean): Promise<Redacted<string>> {
  return readPassword({
    passwordFile: opts.passwordFile,
    stdin: opts.passwordStdin,
    env: ctx.env,
    input: ctx.stdin,
    prompt: `password for ${name}: `,
    confirm,
  });
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}
