/**
 * test/debian-packages.sh, `npm test`'s pretest step, against stand-ins for id, dpkg-query and apt-get
 * (first on PATH), so it can be checked without changing this machine's packages: as root it installs
 * what is missing (one apt-get update, then apt-get install -y), without root it prints the command.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/world.js';

/** Compiled tests live in dist/test/e2e/; the script in the source tree's test/. */
const SCRIPT = fileURLToPath(new URL('../../../test/debian-packages.sh', import.meta.url));

const STUBS: Record<string, string> = {
  id: 'echo "$FAKE_UID"',
  'dpkg-query': 'for pkg; do :; done\ncase " $FAKE_MISSING " in *" $pkg "*) exit 1 ;; esac\nprintf "install ok installed"',
  'apt-get': 'echo "$*" >> "$APT_LOG"\n[ -z "${APT_FAILS:-}" ]',
};

interface Run {
  code: number;
  stderr: string;
  /** One line per apt-get call, its arguments. */
  apt: string[];
}

async function runScript(t: ExecutionContext, env: { uid: number; missing: string[]; aptFails?: boolean }): Promise<Run> {
  const dir = await tempDir(t);
  for (const [name, body] of Object.entries(STUBS)) {
    await writeFile(join(dir, name), `#!/bin/sh\n${body}\n`);
    await chmod(join(dir, name), 0o755);
  }
  const aptLog = join(dir, 'apt.log');
  await writeFile(aptLog, '');
  const childEnv = {
    PATH: `${dir}:/usr/bin:/bin`, FAKE_UID: String(env.uid), FAKE_MISSING: env.missing.join(' '), APT_LOG: aptLog,
    ...(env.aptFails ? { APT_FAILS: '1' } : {}),
  };
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile('bash', [SCRIPT], { env: childEnv }, (err, _stdout, stderr) => resolve({ code: err ? Number((err as { code?: unknown }).code) : 0, stderr }));
  });
  const apt = (await readFile(aptLog, 'utf8')).split('\n').filter(Boolean);
  return { code, stderr, apt };
}

test('pretest with every package installed installs nothing and passes', async (t) => {
  const run = await runScript(t, { uid: 0, missing: [] });
  t.is(run.code, 0, run.stderr);
  t.deepEqual(run.apt, []);
});

test('pretest as root installs the missing packages: apt-get update once, then install -y', async (t) => {
  const run = await runScript(t, { uid: 0, missing: ['swaks', 'redis-server'] });
  t.is(run.code, 0, run.stderr);
  t.is(run.apt.length, 2, run.apt.join('\n'));
  t.regex(run.apt[0]!, / update$/);
  t.regex(run.apt[1]!, / install -y --no-install-recommends swaks redis-server$/);
  t.regex(run.stderr, /installing .*swaks redis-server/);
});

test('pretest without root prints the one command to run and stops before any test', async (t) => {
  const run = await runScript(t, { uid: 1000, missing: ['chromium'] });
  t.is(run.code, 1);
  t.deepEqual(run.apt, [], 'nothing is installed without root');
  t.true(run.stderr.includes('sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium'), run.stderr);
});

test('pretest fails when apt-get cannot install', async (t) => {
  const run = await runScript(t, { uid: 0, missing: ['swaks'], aptFails: true });
  t.not(run.code, 0);
});
