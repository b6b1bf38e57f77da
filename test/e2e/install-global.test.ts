/**
 * The README's way to put `burrow` on PATH: a global install from this folder (`npm link`, `npm install
 * -g .`). Installed here into a temporary prefix (offline, nothing fetched), then run by its bare name
 * from another folder, as a shell or an ssh ProxyCommand would.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_PATH } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/world.js';

/** Compiled tests live in dist/test/e2e/; the package at the project root. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function run(program: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(program, args, { timeout: 120_000, ...opts }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }));
  });
}

test('npm install -g from the folder puts an executable burrow on PATH that runs from anywhere', async (t) => {
  const prefix = await tempDir(t);
  // --ignore-scripts: the build is there already (npm test built it), and must not be rebuilt under running tests.
  const install = await run('npm', ['install', '--global', '--prefix', prefix, '--offline', '--ignore-scripts', '--no-audit', '--no-fund', ROOT]);
  t.is(install.code, 0, install.stderr);

  const bin = join(prefix, 'bin', 'burrow');
  await t.notThrowsAsync(access(bin, constants.X_OK), `${bin} is there and executable`);
  t.is(await realpath(bin), await realpath(CLI_PATH), 'the bin is this folder\'s built command');

  const elsewhere = await tempDir(t);
  const version = await run('burrow', ['--version'], { cwd: elsewhere, env: { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? ''}` } });
  t.is(version.code, 0, version.stderr);
  t.is(version.stdout.trim(), '0.1.0');
});
