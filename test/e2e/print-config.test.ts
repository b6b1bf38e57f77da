/**
 * `--print-config` on the real command: the merged result (defaults < file < env < flags) with each
 * value's source, as TOML that loads back through the same loader, or as JSON; passwords and secret
 * files are never read into it; nothing starts and the exit code is 0.
 */
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { RELAY_OPTIONS } from '../../relay/cli.js';
import { loadConfig } from '../../shared/config/load-config.js';
import { formatConfigJson, formatConfigToml } from '../../shared/config/print-config.js';
import { option } from '../../shared/config/option-spec.js';
import { runCli } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/world.js';

const FP = 'SHA256:' + 'A'.repeat(43);
const PASSWORD = 'pw-never-printed-7f3a';
const SECRET = 'S'.repeat(43);

test('relay --print-config: TOML with sources, loads back to the same values; nothing starts', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'relay.toml');
  await writeFile(file, 'host = "127.0.0.1"\nclient-port = 7100\ndrain = 5\n');
  // keys/ does not exist: a relay that started would fail with exit 2.
  const run = await runCli(['relay', '--config', file, '--skeleton-port', '7301', '--print-config'], { BURROW_CLIENT_PORT: '7200' }, { cwd: dir });
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /^client-port = 7200 {2}# from BURROW_CLIENT_PORT$/m);
  t.regex(run.stdout, /^skeleton-port = 7301 {2}# from --skeleton-port$/m);
  t.true(run.stdout.includes(`host = "127.0.0.1"  # from ${file}`), run.stdout);
  t.regex(run.stdout, /^keys = "keys" {2}# default$/m);
  const specs = RELAY_OPTIONS.filter((s) => s.key !== 'config');
  const reloaded = loadConfig(specs, { flags: {}, env: {}, file: { path: 'printed.toml', data: parse(run.stdout) as Record<string, unknown> } });
  t.like(reloaded, { host: '127.0.0.1', clientPort: 7200, skeletonPort: 7301, drain: 5, keys: 'keys', logLevel: 'info' });
  // Every option is printed: with its value, or as a comment when nothing sets it.
  const unset = [...run.stdout.matchAll(/^# ([a-z0-9-]+) = \(not set\)$/gm)].map((m) => m[1]);
  t.deepEqual([...Object.keys(parse(run.stdout) as object), ...unset].sort(), specs.map((s) => s.toml).sort(), 'every option is printed');
});

test('skeleton and client --print-config never read or show passwords or secrets', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'home.pass'), `${PASSWORD}\n`);
  await writeFile(join(dir, 'web.secret'), `${SECRET}\n`);
  const skeleton = await runCli(
    ['skeleton', '--relay', 'relay.example:7001', '--fingerprint', FP, '--user', 'home', '--password-file', 'home.pass', '--server', 'web=127.0.0.1:80,secret-file=web.secret', '--print-config'],
    {}, { cwd: dir },
  );
  t.is(skeleton.code, 0, skeleton.stderr);
  t.regex(skeleton.stdout, /^password-file = "home\.pass"/m);
  t.regex(skeleton.stdout, /^# password: first line of home\.pass, read when the command runs \(not now\)$/m);
  t.false(skeleton.stdout.includes(PASSWORD) || skeleton.stdout.includes(SECRET));

  const secretFile = ['--secret-file', 'web.secret'];
  for (const sub of [['list'], ['connect', 'web', ...secretFile], ['stdio', 'web', ...secretFile]]) {
    const args = ['client', ...sub, '--relay', 'relay.example:7000', '--fingerprint', FP, '--print-config-json'];
    const run = await runCli(args, { BURROW_PASSWORD: PASSWORD, XDG_CONFIG_HOME: dir }, { cwd: dir });
    t.is(run.code, 0, run.stderr);
    t.false(run.stdout.includes(PASSWORD) || run.stdout.includes(SECRET), sub[0]);
    const json = JSON.parse(run.stdout) as { values: Record<string, unknown>; sources: Record<string, string>; notes: string[] };
    t.is(json.values.relay, 'relay.example:7000');
    t.is(json.sources.relay, 'flag');
    t.is(json.values['known-relays'], join(dir, 'burrow', 'known_relays'), 'the run-time default is shown');
    t.deepEqual(json.notes, ['password: BURROW_PASSWORD is set (value not shown)']);
  }
});

test('a value marked secret is printed as [redacted] in TOML and JSON', (t) => {
  const specs = [option('--token <t>', 'string', 'a token', { secret: true }), option('--name <n>', 'string', 'a name')];
  const printable = { command: 'burrow x', config: { token: 'tok-123456', name: 'n' }, origins: { token: 'env' as const, name: 'flag' as const }, notes: [] };
  const toml = formatConfigToml(specs, printable);
  const json = formatConfigJson(specs, printable);
  t.false(toml.includes('tok-123456') || json.includes('tok-123456'));
  t.regex(toml, /^# token = \[redacted\] {2}# from BURROW_TOKEN$/m);
  t.is((JSON.parse(json) as { values: Record<string, unknown> }).values.token, '[redacted]');
});

test('--print-config still refuses a bad config: exit 2 naming the key and the file', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'skeleton.toml');
  await writeFile(file, 'server = ["web=127.0.0.1:80,secret-file="]\n');
  const run = await runCli(['skeleton', '--config', file, '--print-config']);
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, /server/);
  t.true(run.stderr.includes(file));
});
