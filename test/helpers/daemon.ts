/**
 * A real program (pebble, caddy, nginx, haproxy...) run for one test: started, known ready by a line
 * it prints (never by sleeping), killed at teardown. Its output is kept for the failure message.
 */
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';

export interface Daemon {
  proc: ChildProcess;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** Resolves when a line matching `pattern` appears (or already did); rejects if the program exits first or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export function startDaemon(t: ExecutionContext, command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Daemon {
  // Its own process group: teardown kills the program and anything it forked (nginx's workers hold our pipes).
  const proc = spawn(command, args, { env: { ...process.env, ...opts.env }, ...(opts.cwd ? { cwd: opts.cwd } : {}), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let text = '';
  const watchers = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    text += chunk.toString();
    if (text.length > 2_000_000) text = text.slice(-1_000_000);
    for (const w of [...watchers]) w();
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  let exited: string | undefined;
  proc.once('exit', (code, signal) => {
    exited = `${command} exited (${code ?? signal})`;
    for (const w of [...watchers]) w();
  });
  proc.once('error', (err) => {
    exited = `${command} could not start: ${err.message}`;
    for (const w of [...watchers]) w();
  });
  t.teardown(() => {
    try {
      if (proc.pid !== undefined) process.kill(-proc.pid, 'SIGKILL');
    } catch (err) {
      // ESRCH: the group is gone already.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
    proc.stdout?.destroy();
    proc.stderr?.destroy();
  });
  return {
    proc,
    output: () => text,
    waitFor: (pattern, timeoutMs = 60_000) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`${command}: no line matching ${String(pattern)} within ${timeoutMs} ms; output:\n${text.slice(-4000)}`)), timeoutMs);
      const check = (): void => {
        const m = pattern.exec(text);
        if (m) done(undefined, m[0]);
        else if (exited !== undefined) done(new Error(`${exited} before printing ${String(pattern)}; output:\n${text.slice(-4000)}`));
      };
      const done = (err?: Error, line?: string): void => {
        clearTimeout(timer);
        watchers.delete(check);
        if (err) reject(err);
        else resolve(line!);
      };
      watchers.add(check);
      check();
    }),
  };
}
