/**
 * Writes a file so that readers see either the old content or the new, never a torn file: the data goes
 * to `<path>.tmp-<random>` (created exclusively, with the final mode), is fsynced, then moved into place.
 * Without `overwrite` the move is a hard link, which fails atomically if the target already exists.
 */
import { randomBytes } from 'node:crypto';
import { link, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface WriteFileAtomicOptions {
  /** File mode of the new file, applied with chmod so the umask cannot widen or narrow it. */
  mode: number;
  /** Replace an existing file (default false: fail with EEXIST). */
  overwrite?: boolean;
}

export async function writeFileAtomic(path: string, data: string | Buffer, opts: WriteFileAtomicOptions): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  const handle = await open(tmp, 'wx', opts.mode);
  let placed = false;
  try {
    await handle.chmod(opts.mode);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    if (opts.overwrite === true) {
      await rename(tmp, path);
      placed = true;
    } else {
      await link(tmp, path);
    }
  } finally {
    await handle.close(); // idempotent: a no-op when already closed
    if (!placed) await unlink(tmp).catch(ignoreMissing);
  }
  await syncDirectory(dirname(path));
}

/** Makes the rename durable; directories cannot be opened for fsync on Windows, where it is skipped. */
async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}
