/**
 * Calls back when a file changes, including when an editor or an atomic save replaces it (a rename
 * onto it): the folder is watched, not the file. Bursts of events are folded into one call.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export function watchFile(path: string, onChange: () => void, settleMs = 100): FSWatcher | undefined {
  const name = basename(path);
  let timer: NodeJS.Timeout | undefined;
  try {
    const watcher = watch(dirname(path), (_event, file) => {
      if (file !== null && file !== name) return;
      clearTimeout(timer);
      timer = setTimeout(onChange, settleMs);
    });
    watcher.on('error', () => watcher.close());
    watcher.unref();
    return watcher;
  } catch {
    // No watching on this file system: SIGHUP still reloads.
    return undefined;
  }
}
