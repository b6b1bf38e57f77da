/**
 * The soak's child processes: the real `burrow` command (dist/bin/burrow.js) with its output lines
 * kept, a wait for a line, and stop/kill. Everything runs on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '../bin/node-flags.js';

export const CLI = fileURLToPath(new URL('../bin/burrow.js', import.meta.url));

export interface Proc {
  name: string;
  child: ChildProcess;
  /** Every output line, stdout and stderr interleaved. */
  lines: string[];
  stdout: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor(re: RegExp, timeoutMs: number, after?: number): Promise<RegExpMatchArray>;
}

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BURROW_')) env[k] = v;
  // The relay's admin HTTP on a free port: a soak beside another relay must not fight for 7002.
  return { ...env, BURROW_ADMIN: '127.0.0.1:0', ...extra };
}

const alive = new Set<ChildProcess>();
// Whatever happens to the soak, it leaves no burrow process behind.
process.once('exit', () => {
  for (const child of alive) child.kill('SIGKILL');
});

export function spawnBurrow(name: string, args: string[], cwd: string, env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [...NODE_FLAGS, CLI, ...args], { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  alive.add(child);
  child.once('exit', () => alive.delete(child));
  const lines: string[] = [];
  const stdout: string[] = [];
  const waiters = new Set<{ re: RegExp; after: number; resolve: (m: RegExpMatchArray) => void }>();
  for (const stream of [child.stdout!, child.stderr!]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (stream === child.stdout) stdout.push(line);
        for (const w of waiters) {
          const m = lines.length - 1 >= w.after ? w.re.exec(line) : null;
          if (m) {
            waiters.delete(w);
            w.resolve(m);
          }
        }
      }
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  const waitFor = (re: RegExp, timeoutMs: number, after = 0): Promise<RegExpMatchArray> => {
    const seen = lines.slice(after).map((l) => re.exec(l)).find((m) => m);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = { re, after, resolve: (m: RegExpMatchArray) => { clearTimeout(timer); resolve(m); } };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`${name}: no line matched ${re} within ${timeoutMs} ms\n${lines.slice(-20).join('\n')}`));
      }, timeoutMs);
      waiters.add(waiter);
      void exited.then(({ code, signal }) => {
        if (!waiters.delete(waiter)) return;
        clearTimeout(timer);
        reject(new Error(`${name} exited (code ${code}, signal ${signal}) before a line matched ${re}\n${lines.slice(-20).join('\n')}`));
      });
    });
  };
  return { name, child, lines, stdout, exited, waitFor };
}

/** Runs a short command to its end and returns its stdout; throws with its output if it fails. */
export async function runBurrow(args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  const p = spawnBurrow(`burrow ${args[0]}`, args, cwd, env);
  const { code } = await p.exited;
  if (code !== 0) throw new Error(`burrow ${args.join(' ')} exited ${code}\n${p.lines.join('\n')}`);
  return p.stdout.join('\n');
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves on exit. */
export async function stop(p: Proc, graceMs = 15_000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
}

/**
 * A relay's folder as the README makes it, with the real CLI: keys (returns the fingerprint), the
 * secret `echo.secret`, a skeleton account `home` serving `ids`, and client accounts (`alice` first)
 * allowed `ids`. Passwords come from `env` (BURROW_PASSWORD).
 */
export async function prepareRelayFolder(dir: string, env: Record<string, string>, ids: string, clients: string[] = []): Promise<string> {
  const fingerprint = (await runBurrow(['keys', 'generate', '--dir', 'keys'], dir)).trim();
  await runBurrow(['secret', 'generate', '--out', 'echo.secret'], dir);
  await runBurrow(['users', 'add', 'home', '--role', 'skeleton', '--serve', ids], dir, env);
  for (const user of ['alice', ...clients]) await runBurrow(['users', 'add', user, '--role', 'client', '--access', ids], dir, env);
  return fingerprint;
}
