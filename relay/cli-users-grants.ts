/**
 * `burrow users grant|revoke NAME [--serve P]... [--access P]... [--publish G]...`: change what an
 * existing account may serve, access and publish without re-creating it. A running relay applies the
 * change at once: a publication or id no longer covered is withdrawn.
 */
import { Option, type Command } from 'commander';
import type { CliContext } from '../shared/cli/cli-context.js';
import { BurrowError } from '../shared/errors.js';
import { validatePattern } from './users/id-pattern.js';
import { grantProblem } from './users/publish-grant.js';
import { loadUsers, nextRevision, revisionOf, saveUsers, type UserRecord } from './users/users-file.js';

interface GrantOpts {
  users: string;
  serve?: string[];
  access?: string[];
  publish?: string[];
}

export const GRANT_EXAMPLES = [
  "burrow users grant home --publish '*.home.example.net' --publish tcp:25     # may publish these from now on",
  "burrow users grant alice --access 'home-ssh'",
];
export const REVOKE_EXAMPLES = ["burrow users revoke home --publish tcp:25     # a running relay closes port 25's publication at once"];

export function grantOptions(cmd: Command, collect: (value: string, previous: string[] | undefined) => string[]): Command {
  return cmd
    .argument('<name>', 'user name')
    .addOption(new Option('--serve <pattern>', 'server ids a skeleton may advertise (repeatable)').argParser(collect))
    .addOption(new Option('--access <pattern>', 'server ids a client may list and open (repeatable)').argParser(collect))
    .addOption(new Option('--publish <grant>', 'tcp:PORT[-PORT], udp:PORT[-PORT] or a host name pattern a skeleton may publish (repeatable)').argParser(collect));
}

export async function changeGrants(ctx: CliContext, name: string, opts: GrantOpts, add: boolean): Promise<void> {
  const serve = opts.serve ?? [];
  const access = opts.access ?? [];
  const publish = (opts.publish ?? []).map((g) => g.toLowerCase());
  if (serve.length + access.length + publish.length === 0) throw new BurrowError('ERR_USAGE', 'give at least one --serve, --access or --publish');
  [...serve, ...access].forEach(validatePattern);
  for (const grant of publish) {
    const problem = grantProblem(grant);
    if (problem) throw new BurrowError('ERR_USAGE', `--publish: ${problem}`);
  }
  const db = await loadUsers(opts.users);
  const record = db.get(name);
  if (record === undefined) throw new BurrowError('ERR_USAGE', `no user ${JSON.stringify(name)} in ${opts.users}`);
  if ((serve.length > 0 || publish.length > 0) && !record.roles.includes('skeleton')) throw new BurrowError('ERR_USAGE', `${name} is not a skeleton account: --serve and --publish need one`);
  if (access.length > 0 && !record.roles.includes('client')) throw new BurrowError('ERR_USAGE', `${name} is not a client account: --access needs one`);
  const apply = (list: readonly string[] | undefined, items: string[]): string[] =>
    add ? [...new Set([...(list ?? []), ...items])] : (list ?? []).filter((item) => !items.includes(item));
  const next: UserRecord = {
    ...record, serve: apply(record.serve, serve), access: apply(record.access, access), publish: apply(record.publish, publish),
    revision: nextRevision(revisionOf(record), Date.now()),
  };
  db.set(name, next);
  await saveUsers(opts.users, db);
  const list = (items: readonly string[] | undefined): string => (items && items.length > 0 ? items.join(',') : '-');
  ctx.stdout(`${name}: serve ${list(next.serve)}; access ${list(next.access)}; publish ${list(next.publish)}`);
}
