/**
 * The real `burrow` command as a child process, for end-to-end tests that drive the CLI like a user:
 * `spawnCli` for long-running commands (await a line, then SIGTERM in teardown), `runCli` for short ones.
 * The environment is the test process's minus every BURROW_* variable, plus what the test passes, so an
 * operator's own BURROW_RELAY cannot leak into a test.
 */
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '../../bin/node-flags.js';

/**
 * Compiled helpers live in dist/test/helpers/; the CLI users run (package.json `bin`) is the bundle of
 * dist/bin/burrow.js in dist/bundle/ (`npm run bundle`), so the tests drive that.
 */
export const CLI_PATH = fileURLToPath(new URL('../../bundle/burrow.js', import.meta.url));

/**
 * How a test starts the CLI with node explicitly: this node, the node options the `burrow` command's
 * shebang gives (so a test's relay collects garbage like a deployed one), the script. Append the args.
 */
export const CLI_COMMAND: readonly [string, ...string[]] = [process.execPath, ...NODE_FLAGS, CLI_PATH];

export const LINE_TIMEOUT_MS = 20_000;
const RUN_TIMEOUT_MS = 60_000;
const KILL_AFTER_MS = 10_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliOptions {
  /** Added to the environment (BURROW_PASSWORD, ...). */
  env?: Record<string, string>;
  cwd?: string;
  /** What runs, before the args: CLI_COMMAND unless given (`[CLI_PATH]` runs the script by its shebang). */
  command?: readonly [string, ...string[]];
}

type StreamName = 'stdout' | 'stderr';

export interface CliProcess {
  child: ChildProcess;
  /** Everything the process wrote so far. */
  stdout(): string;
  stderr(): string;
  /** The first line (past or future) on `stream` matching `re`; rejects with the output on timeout or exit. */
  waitForLine(re: RegExp, opts?: { stream?: StreamName; timeoutMs?: number }): Promise<RegExpMatchArray>;
  /** Resolves when the process has exited. */
  exited: Promise<Exit>;
  /** SIGTERM (SIGKILL if it lingers) and wait for the exit. */
  stop(): Promise<Exit>;
}

/**
 * process.env without BURROW_* variables, plus `extra`. A relay's admin HTTP listens on a free port
 * (BURROW_ADMIN=127.0.0.1:0) unless the test says otherwise, so parallel relays never race for 7002.
 */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('BURROW_')) env[key] = value;
  return { ...env, BURROW_ADMIN: '127.0.0.1:0', ...extra };
}

interface Waiter {
  stream: StreamName;
  re: RegExp;
  resolve: (m: RegExpMatchArray) => void;
  reject: (err: Error) => void;
}

/** Line-splits one output stream, keeps everything, and offers each complete line to `onLine`. */
function collect(readable: NodeJS.ReadableStream, onLine: (line: string) => void): { text: () => string } {
  let text = '';
  let partial = '';
  readable.setEncoding('utf8');
  readable.on('data', (chunk: string) => {
    text += chunk;
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) onLine(line.replace(/\r$/, ''));
  });
  readable.on('end', () => {
    if (partial !== '') onLine(partial);
    partial = '';
  });
  return { text: () => text };
}

function describe(args: readonly string[], out: string, err: string, why: string): string {
  return `burrow ${args.join(' ')}: ${why}\n--- stdout ---\n${out}\n--- stderr ---\n${err}`;
}

/**
 * Spawns `CLI_COMMAND ...args` (`node NODE_FLAGS dist/bundle/burrow.js ...args`). With `t`,
 * registers a teardown that stops it; without (a process shared by a whole file), the caller stops it,
 * e.g. in `test.after.always`.
 */
export function spawnCli(t: ExecutionContext | undefined, args: readonly string[], opts: CliOptions = {}): CliProcess {
  const [program, ...before] = opts.command ?? CLI_COMMAND;
  const child = spawn(program, [...before, ...args], {
    cwd: opts.cwd,
    env: cliEnv(opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: Record<StreamName, string[]> = { stdout: [], stderr: [] };
  const waiters = new Set<Waiter>();
  const onLine = (stream: StreamName) => (line: string) => {
    lines[stream].push(line);
    for (const w of waiters) {
      const m = w.stream === stream ? w.re.exec(line) : null;
      if (m) {
        waiters.delete(w);
        w.resolve(m);
      }
    }
  };
  const out = collect(child.stdout!, onLine('stdout'));
  const err = collect(child.stderr!, onLine('stderr'));
  child.stdin!.on('error', () => undefined); // the process may exit before reading its stdin

  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.once('error', (e) => {
      exit = { code: null, signal: null };
      for (const w of waiters) w.reject(new Error(describe(args, out.text(), err.text(), `could not start: ${e.message}`)));
      waiters.clear();
      resolve(exit);
    });
    // 'close' (not 'exit'): both output streams have ended, so every line has been seen.
    child.once('close', (code, signal) => {
      exit = { code, signal };
      for (const w of waiters) w.reject(new Error(describe(args, out.text(), err.text(), `exited (code ${code}, signal ${signal}) before a line matched ${w.re}`)));
      waiters.clear();
      resolve(exit);
    });
  });

  const stop = async (): Promise<Exit> => {
    if (exit) return exit;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    try {
      return await exited;
    } finally {
      clearTimeout(killer);
    }
  };

  const waitForLine = (re: RegExp, o: { stream?: StreamName; timeoutMs?: number } = {}): Promise<RegExpMatchArray> => {
    const stream = o.stream ?? 'stdout';
    for (const line of lines[stream]) {
      const m = re.exec(line);
      if (m) return Promise.resolve(m);
    }
    if (exit) return Promise.reject(new Error(describe(args, out.text(), err.text(), `exited (code ${exit.code}) before a line matched ${re}`)));
    return new Promise<RegExpMatchArray>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(describe(args, out.text(), err.text(), `no ${stream} line matched ${re} within ${o.timeoutMs ?? LINE_TIMEOUT_MS} ms`)));
      }, o.timeoutMs ?? LINE_TIMEOUT_MS);
      const waiter: Waiter = {
        stream,
        re,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      waiters.add(waiter);
    });
  };

  if (t) t.teardown(stop);
  return { child, stdout: out.text, stderr: err.text, waitForLine, exited, stop };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a short command to its end (stdin is empty unless `input` is given). Rejects, with the output so
 * far, if it has not exited within `timeoutMs`.
 */
export async function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  opts: { cwd?: string; input?: string; timeoutMs?: number; command?: CliOptions['command'] } = {},
): Promise<CliResult> {
  const proc = spawnCli(undefined, args, { env, ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}), ...(opts.command ? { command: opts.command } : {}) });
  proc.child.stdin!.end(opts.input ?? '');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      void proc.stop();
      reject(new Error(describe(args, proc.stdout(), proc.stderr(), `still running after ${opts.timeoutMs ?? RUN_TIMEOUT_MS} ms`)));
    }, opts.timeoutMs ?? RUN_TIMEOUT_MS);
  });
  try {
    const { code } = await Promise.race([proc.exited, timeout]);
    return { code, stdout: proc.stdout(), stderr: proc.stderr() };
  } finally {
    clearTimeout(timer);
  }
}

/** The `burrow: ... [ERR_X]` lines a command printed on stderr (bunyan JSON log lines left out). */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('burrow: '));
}

/** The code in brackets at the end of the last `burrow:` error line, if any. */
export function errorCode(stderr: string): string | undefined {
  const last = errorLines(stderr).at(-1);
  return last === undefined ? undefined : /\[(ERR_[A-Z0-9_]+)\]$/.exec(last)?.[1];
}
