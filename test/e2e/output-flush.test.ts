/**
 * A command's output reaches a pipe whole: `burrow` waits for stdout to drain before it exits, so a long
 * listing into a pipe (`burrow users list | less`, `client list --json | jq`) is never cut at the pipe's
 * 64 KiB with exit status 0. Before, process.exit() dropped what was still queued.
 */
import test from 'ava';
import { join } from 'node:path';
import { runCli } from '../helpers/cli-process.js';
import { tempDir, writeUsers, type UserSpec } from '../helpers/world.js';

test('a 2 MB `burrow users list` into a pipe arrives whole', async (t) => {
  const dir = await tempDir(t);
  const users: Record<string, UserSpec> = {};
  for (let i = 0; i < 40_000; i++) users[`user-${String(i).padStart(5, '0')}-${'x'.repeat(20)}`] = { roles: ['client'], access: ['*'] };
  await writeUsers(join(dir, 'users.json'), users);
  const result = await runCli(['users', 'list', '--users', join(dir, 'users.json')], {}, { timeoutMs: 60_000 });
  t.is(result.code, 0);
  const rows = result.stdout.split('\n').filter((line) => line.startsWith('user-'));
  t.log(`${result.stdout.length} bytes, ${rows.length} rows`);
  t.is(rows.length, 40_000);
  t.true(rows.at(-1)!.startsWith('user-39999-'));
});
