/** Disables (or enables) one account in the users file, as `burrow users disable|enable` does. */
import { nextRevision, revisionOf, type UserRecord } from './user-record.js';
import { loadUsers, saveUsers } from './users-file.js';

export type DisableResult = 'changed' | 'unchanged' | 'unknown';

/**
 * `effective` is the record the relay acts on when it is newer than the file's (a cluster record): the
 * change is made to it, so disabling an account does not roll back a password changed on another relay.
 */
export async function setUserDisabled(path: string, name: string, disabled: boolean, effective?: UserRecord): Promise<DisableResult> {
  const db = await loadUsers(path);
  const inFile = db.get(name);
  const record = effective && revisionOf(effective) > revisionOf(inFile) ? effective : inFile;
  if (!record) return 'unknown';
  if (record.disabled === disabled) return 'unchanged';
  db.set(name, { ...record, disabled, revision: nextRevision(revisionOf(record), Date.now()) });
  await saveUsers(path, db);
  return 'changed';
}
