/**
 * Waits for in-process state to reach a condition, checking once per event-loop turn (after the I/O of
 * that turn), for when no event announces the change. Gives up after `ms` and resolves false, so a broken
 * feature fails its assertion instead of hanging the test.
 */
export function stateReaches(condition: () => boolean, ms = 5_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  return new Promise((resolve) => {
    const check = (): void => {
      if (condition()) return resolve(true);
      if (Date.now() >= deadline) return resolve(false);
      setImmediate(check);
    };
    check();
  });
}
