/**
 * A real nginx for one test, from the server blocks the test gives: its pid, logs and temp files in the test's directory, in the foreground, known ready by its
 * "start worker process" notice, killed at teardown. Listeners should use a loopback address of their
 * own (privateLoopback) so fixed ports never collide between tests.
 */
import type { ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startDaemon, type Daemon } from './daemon.js';

const run = promisify(execFile);

/**
 * nginx's main config for a test: in the foreground, pid, logs and temp files under `prefix`, errors on
 * stderr (its "start worker process" notice says it is ready), and `http` the body of its http block.
 */
export function nginxConf(prefix: string, http: string): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `${name}_temp_path ${join(prefix, name)};`).join(' ');
  return [
    'daemon off;', 'worker_processes 1;', `pid ${join(prefix, 'nginx.pid')};`, 'error_log stderr notice;',
    'events { worker_connections 1024; }',
    `http { ${temp} access_log ${join(prefix, 'access.log')}; ${http} }`, '',
  ].join('\n');
}

/** `body`: the inside of the http block (server blocks). */
export async function startNginx(t: ExecutionContext, dir: string, body: string): Promise<Daemon> {
  const prefix = join(dir, 'nginx');
  await mkdir(prefix, { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  await writeFile(conf, nginxConf(prefix, body));
  await run('nginx', ['-t', '-p', prefix, '-c', conf]).catch((err: { stderr?: string }) => {
    throw new Error(`nginx refused the test's config: ${err.stderr ?? String(err)}`);
  });
  const nginx = startDaemon(t, 'nginx', ['-p', prefix, '-c', conf]);
  await nginx.waitFor(/start worker process/);
  return nginx;
}
