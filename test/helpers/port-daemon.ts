/**
 * A real daemon from Debian (tinyproxy, nginx) on loopback for end-to-end tests. They have no port 0:
 * each start takes random high ports, writes its config for them, and is known ready by its own log
 * line; a daemon that says the port is taken, or exits first, is started again on other ports. Never a
 * sleep; the process is stopped in t.teardown.
 */
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export function findProgram(name: string, pkg: string): string {
  const candidates = ['/usr/sbin', '/usr/bin', ...(process.env.PATH ?? '').split(delimiter)].map((dir) => join(dir, name));
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`${name} not found: install it with \`apt-get install -y ${pkg}\` (the pretest step of npm test does, as root)`);
  return found;
}

/** A random port in 20000-32767: below the ephemeral range (32768-60999), where port-0 listeners and outgoing connections land. */
export function randomPort(): number {
  return 20_000 + Math.floor(Math.random() * 12_768);
}

export interface DaemonSpec<P> {
  name: string;
  /** Picks ports, writes the config; returns the argv and what the test needs to know. */
  prepare(): Promise<{ argv: string[]; info: P }>;
  /** A line that says it is serving. */
  ready: RegExp;
  /** A line that says one of its ports was taken. */
  taken: RegExp;
}

export interface Daemon<P> {
  info: P;
  proc: ChildProcess;
  /** Every line it printed so far. */
  output: string[];
}

const TRIES = 6;
/** A daemon that has not stopped this long after SIGTERM is killed. */
const STOP_GRACE_MS = 5_000;

/**
 * SIGTERM, and wait for the exit: nginx's master then stops its workers (a SIGKILLed master leaves
 * them running, holding the test's pipes open). SIGKILL if it does not stop in time.
 */
export function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

export async function startDaemon<P>(t: ExecutionContext, spec: DaemonSpec<P>): Promise<Daemon<P>> {
  for (let i = 1; ; i++) {
    const { argv, info } = await spec.prepare();
    const output: string[] = [];
    const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    t.teardown(() => stop(proc));
    const outcome = await new Promise<'ready' | 'taken' | 'exited'>((resolve) => {
      const onChunk = (chunk: Buffer): void => {
        for (const line of chunk.toString().split('\n')) {
          if (!line) continue;
          output.push(line);
          if (spec.taken.test(line)) resolve('taken');
          else if (spec.ready.test(line)) resolve('ready');
        }
      };
      proc.stdout!.on('data', onChunk);
      proc.stderr!.on('data', onChunk);
      proc.once('exit', () => resolve('exited'));
      proc.once('error', () => resolve('exited'));
    });
    if (outcome === 'ready') return { info, proc, output };
    await stop(proc);
    if (outcome === 'exited' && !output.some((l) => spec.taken.test(l))) throw new Error(`${spec.name} exited before it was ready:\n${output.join('\n')}`);
    if (i >= TRIES) throw new Error(`${spec.name}: no free port in ${TRIES} tries`);
  }
}
