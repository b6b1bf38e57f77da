/**
 * docs/examples/: every sample config loads through the real loader (readToml + the command's option
 * table, checks included) and mentions every option, so the samples cannot rot; the systemd units keep
 * their hardening and point at the sample configs' paths.
 */
import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CLIENT_FILE_KEYS, CONNECT_OPTIONS, LIST_OPTIONS, STDIO_OPTIONS } from '../../client/cli.js';
import { TRUST_OPTIONS } from '../../client/cli-trust.js';
import { RELAY_OPTIONS } from '../../relay/cli.js';
import { loadConfig } from '../../shared/config/load-config.js';
import type { OptionSpec } from '../../shared/config/option-spec.js';
import { readToml } from '../../shared/config/read-toml.js';
import { SKELETON_OPTIONS } from '../../skeleton/cli.js';

/** Compiled tests live in dist/test/unit/; the samples in docs/examples/ at the project root. */
const EXAMPLES = fileURLToPath(new URL('../../../docs/examples/', import.meta.url));
const own = (specs: readonly OptionSpec[]) => specs.filter((s) => s.key !== 'config');

async function load(name: string, specs: readonly OptionSpec[], siblingKeys?: readonly string[]) {
  const path = EXAMPLES + name;
  return loadConfig(own(specs), { flags: {}, env: {}, file: { path, data: await readToml(path) }, ...(siblingKeys ? { siblingKeys } : {}) });
}

/** Every option's TOML key appears in the sample, set or commented out (`# key =`). */
async function assertMentionsAll(t: import('ava').ExecutionContext, name: string, specs: readonly OptionSpec[]): Promise<void> {
  const text = await readFile(EXAMPLES + name, 'utf8');
  for (const spec of own(specs)) t.regex(text, new RegExp(`^(# )?${spec.toml} = `, 'm'), `${name} mentions ${spec.toml}`);
}

test('the samples are all there', async (t) => {
  const files = (await readdir(EXAMPLES)).sort();
  t.deepEqual(files, ['burrow-relay.service', 'burrow-skeleton.service', 'client.toml', 'nginx-burrow.conf', 'relay.toml', 'skeleton.toml']);
});

test('relay.toml loads and names every relay option', async (t) => {
  const config = await load('relay.toml', RELAY_OPTIONS);
  t.like(config, { clientPort: 7000, skeletonPort: 7001, keys: '/var/lib/burrow/keys', users: '/var/lib/burrow/users.json', admin: '127.0.0.1:7002' });
  await assertMentionsAll(t, 'relay.toml', RELAY_OPTIONS);
});

test('skeleton.toml loads (its --server specs checked) and names every skeleton option', async (t) => {
  const config = await load('skeleton.toml', SKELETON_OPTIONS);
  t.is((config.server as string[]).length, 1);
  // DEPLOY.md pins the relay into this file with client trust; a fingerprint here would win over the pin.
  t.is(config.knownRelays, '/var/lib/burrow/known_relays');
  t.is(config.fingerprint, undefined);
  await assertMentionsAll(t, 'skeleton.toml', SKELETON_OPTIONS);
});

test('client.toml loads for list, connect, stdio and trust, and names every client option', async (t) => {
  for (const specs of [LIST_OPTIONS, CONNECT_OPTIONS, STDIO_OPTIONS, TRUST_OPTIONS]) {
    const config = await load('client.toml', specs, CLIENT_FILE_KEYS);
    t.truthy(config.logLevel ?? config.timeout);
    await assertMentionsAll(t, 'client.toml', specs);
  }
  t.is((await load('client.toml', CONNECT_OPTIONS, CLIENT_FILE_KEYS)).listen, '127.0.0.1:8080');
});

test('the systemd units are hardened, reload with SIGHUP and run the sample configs', async (t) => {
  for (const role of ['relay', 'skeleton']) {
    const unit = await readFile(`${EXAMPLES}burrow-${role}.service`, 'utf8');
    const directives = new Map(unit.split('\n').filter((l) => /^[A-Za-z]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    t.regex(directives.get('ExecStart') ?? '', new RegExp(` ${role} --config /etc/burrow/${role}\\.toml$`));
    t.is(directives.get('ExecReload'), '/bin/kill -HUP $MAINPID');
    t.is(directives.get('Restart'), 'on-failure');
    t.is(directives.get('NoNewPrivileges'), 'yes');
    t.is(directives.get('ProtectSystem'), 'strict');
    t.is(directives.get('StateDirectory'), 'burrow');
    t.true(directives.get('User') === 'burrow' || directives.get('DynamicUser') === 'yes', `${role}: dedicated or dynamic user`);
    t.false(directives.has('MemoryDenyWriteExecute'), 'V8 needs W+X memory');
  }
});
