/**
 * `client connect` wires its live status line to a real terminal: run under `script` (util-linux) so
 * stdout is a pty, it shows the line after "forwarding"; through a pipe (every other e2e test) it does
 * not, and --quiet turns it off on a terminal too.
 */
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI_COMMAND, cliEnv, LINE_TIMEOUT_MS } from '../helpers/cli-process.js';
import { echoServer, newSecret, PASSWORD, server, startTestSkeleton, startWorld } from '../helpers/world.js';

function hasScript(): boolean {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function setup(t: import('ava').ExecutionContext) {
  const world = await startWorld(t);
  const secret = newSecret();
  const echo = await echoServer(t);
  await startTestSkeleton(t, world, [server('echo', echo.port, secret)]);
  const secretFile = join(world.dir, 'echo.secret');
  await writeFile(secretFile, secret.reveal().toString('base64url') + '\n');
  const args = ['client', 'connect', 'echo', '--listen', '127.0.0.1:0', '--secret-file', secretFile, '--relay', `127.0.0.1:${world.relay.addresses.client.port}`, '--fingerprint', world.identity.fingerprint, '--user', 'alice'];
  return { world, args };
}

interface PtyRun {
  /** Resolves once the output (escape codes and all) matches. */
  waitFor(re: RegExp): Promise<RegExpMatchArray>;
  /** SIGTERM to the burrow process itself (never by name), then the whole output once script exits. */
  stop(): Promise<{ code: number | null; output: string }>;
}

/** Runs the CLI under `script` with a pty; the shell prints its pid, then execs node, so we stop exactly that process. */
function underPty(t: import('ava').ExecutionContext, args: string[]): PtyRun {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = `echo "pid $$"; exec ${[...CLI_COMMAND, ...args].map(quote).join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: cliEnv({ BURROW_PASSWORD: PASSWORD }), stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    for (const l of listeners) l();
  });
  child.stderr.resume();
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  let pid: number | undefined;
  const waitFor = (re: RegExp): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`no ${re} in output:\n${output}`)), LINE_TIMEOUT_MS);
      const check = (): void => {
        const m = re.exec(output);
        if (m) done(undefined, m);
      };
      const done = (err?: Error, m?: RegExpMatchArray): void => {
        clearTimeout(timer);
        listeners.delete(check);
        if (err) reject(err);
        else resolve(m!);
      };
      listeners.add(check);
      void closed.then(() => done(new Error(`script exited before ${re}:\n${output}`)));
      check();
    });
  const stop = async (): Promise<{ code: number | null; output: string }> => {
    pid ??= Number((await waitFor(/pid (\d+)/))[1]);
    process.kill(pid, 'SIGTERM');
    const code = await closed;
    return { code, output };
  };
  t.teardown(async () => {
    if (child.exitCode === null && pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  void waitFor(/pid (\d+)/).then((m) => (pid = Number(m[1])), () => undefined);
  return { waitFor, stop };
}

const STATUS = /streams \d+ open, \d+ total, \d+ failed \| client→server \d/;

test('on a terminal, client connect draws the status line; --quiet keeps it off', async (t) => {
  // script(1) is in bsdutils, an Essential package on Debian: missing, this test fails rather than passes.
  t.true(hasScript(), 'script(1) from bsdutils (util-linux) is needed to give client connect a terminal');
  const { args } = await setup(t);
  const shown = underPty(t, args);
  await shown.waitFor(/forwarding 127\.0\.0\.1:\d+ -> echo/);
  await shown.waitFor(STATUS);
  const first = await shown.stop();
  t.is(first.code, 0, first.output);

  const quiet = underPty(t, [...args, '--quiet']);
  await quiet.waitFor(/forwarding 127\.0\.0\.1:\d+ -> echo/);
  const second = await quiet.stop();
  t.is(second.code, 0, second.output);
  t.notRegex(second.output, /streams \d+ open/, 'no status line with --quiet, even on a terminal');
});
