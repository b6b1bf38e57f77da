/** Shared accounts in a test cluster: run `burrow users` in-process on one relay's file, await what a relay loaded. */
import { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ClusterLink } from '../../relay/cluster/cluster-link.js';
import { registerUsersCommands } from '../../relay/cli-users.js';
import type { UsersDb } from '../../relay/users/users-file.js';

/** `burrow users VERB NAME ... --users FILE`, with the password (if any) from a file in `dir`. */
export async function burrowUsers(dir: string, file: string, args: string[], password?: string): Promise<void> {
  const extra: string[] = [];
  if (password !== undefined) {
    const pwFile = join(dir, `pw-${Math.random().toString(36).slice(2)}`);
    await writeFile(pwFile, password + '\n', { mode: 0o600 });
    extra.push('--password-file', pwFile);
  }
  const ctx = { env: {}, stdout: () => {}, stderr: () => {}, stdin: Readable.from([]) };
  const program = new Command().exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
  registerUsersCommands(program, ctx);
  await program.parseAsync(['users', ...args, ...extra, '--users', file], { from: 'user' });
}

/** Resolves with the accounts once `link` has loaded the shared records and `test` holds for them. */
export function usersUntil(link: ClusterLink, test: (db: UsersDb) => boolean): Promise<UsersDb> {
  return new Promise((resolve) => {
    const listener = (db: UsersDb): void => {
      if (!test(db)) return;
      link.off('users', listener);
      resolve(db);
    };
    link.on('users', listener);
  });
}
