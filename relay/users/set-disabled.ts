/** Disables (or enables) one account in the users file, as `burrow users disable|enable` does. */
import { loadUsers, saveUsers } from './users-file.js';

export type DisableResult = 'changed' | 'unchanged' | 'unknown';

export async function setUserDisabled(path: string, name: string, disabled: boolean): Promise<DisableResult> {
  const db = await loadUsers(path);
  const record = db.get(name);
  if (!record) return 'unknown';
  if (record.disabled === disabled) return 'unchanged';
  db.set(name, { ...record, disabled });
  await saveUsers(path, db);
  return 'changed';
}
