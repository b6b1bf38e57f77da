/**
 * A real nginx for one test, from a config body the test gives (the `http { ... }` or `stream { ... }`
 * blocks): its pid, logs and temp files in the test's directory, in the foreground, known ready by its
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

export async function startNginx(t: ExecutionContext, dir: string, body: string): Promise<Daemon> {
  const prefix = join(dir, 'nginx');
  await mkdir(join(prefix, 'logs'), { recursive: true });
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `  ${name}_temp_path ${join(prefix, name)};`).join('\n');
  const conf = join(prefix, 'nginx.conf');
  await writeFile(conf, [
    'worker_processes 1;', `pid ${join(prefix, 'nginx.pid')};`, 'error_log stderr notice;', 'daemon off;',
    'events { worker_connections 256; }',
    body.replace('http {', `http {\n${temp}\n  access_log ${join(prefix, 'logs', 'access.log')};`),
    '',
  ].join('\n'));
  await run('nginx', ['-t', '-p', prefix, '-c', conf]).catch((err: { stderr?: string }) => {
    throw new Error(`nginx refused the test's config: ${err.stderr ?? String(err)}`);
  });
  const nginx = startDaemon(t, 'nginx', ['-p', prefix, '-c', conf]);
  await nginx.waitFor(/start worker process/);
  return nginx;
}
