/**
 * The `burrow` command run as an executable (npm links the package's bin to dist/bundle/burrow.js; the
 * kernel runs its shebang) starts node with NODE_FLAGS, so a relay started as `burrow relay` collects
 * garbage like one started by the sample systemd units. Linux only: it reads /proc.
 */
import test from 'ava';
import { constants } from 'node:fs';
import { access, readFile, readlink } from 'node:fs/promises';
import { basename } from 'node:path';
import { NODE_FLAGS } from '../../bin/node-flags.js';
import { CLI_PATH, runCli, spawnCli } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/world.js';

test('burrow relay, started as an executable, is node with the shebang flags before the script', async (t) => {
  await t.notThrowsAsync(access(CLI_PATH, constants.X_OK), `${CLI_PATH} is executable (npm run build sets the bit)`);
  const dir = await tempDir(t);
  const keys = await runCli(['keys', 'generate', '--dir', 'keys'], {}, { cwd: dir });
  t.is(keys.code, 0, keys.stderr);
  const users = await runCli(['users', 'add', 'alice', '--role', 'client', '--access', '*'], { BURROW_PASSWORD: 'node flags: a long password' }, { cwd: dir });
  t.is(users.code, 0, users.stderr);

  // No node in front: the shebang decides how node starts.
  const relay = spawnCli(t, ['relay', '--host', '127.0.0.1', '--client-port', '0', '--skeleton-port', '0', '--keys', 'keys', '--users', 'users.json'], { cwd: dir, command: [CLI_PATH] });
  await relay.waitForLine(/^relay SHA256:\S+ clients on 127\.0\.0\.1:\d+, skeletons on 127\.0\.0\.1:\d+$/);

  // `env -S` execs node in its own place, so the pid we spawned is the relay's node itself.
  const pid = relay.child.pid!;
  t.regex(basename(await readlink(`/proc/${pid}/exe`)), /^node/);
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').slice(0, -1);
  const script = argv.indexOf(CLI_PATH);
  t.true(script > 0, `the script is on node's command line: ${JSON.stringify(argv)}`);
  // Node options only count before the script; after it they would be burrow's arguments.
  t.deepEqual(argv.slice(1, script), [...NODE_FLAGS]);
  t.is(argv[script + 1], 'relay');
});
