/**
 * The real option tables of relay, skeleton and client through loadConfig: every option has a flag, a
 * BURROW_* twin and a TOML key; bad values of every checked kind are refused at load time naming the key
 * and the file (ERR_CONFIG) or the variable or flag (ERR_USAGE); one client.toml serves every client
 * subcommand but a truly unknown key is still an error.
 */
import test from 'ava';
import { CLIENT_FILE_KEYS, CONNECT_OPTIONS, LIST_OPTIONS, STDIO_OPTIONS } from '../../client/cli.js';
import { RELAY_OPTIONS } from '../../relay/cli.js';
import { loadConfig, loadConfigWithOrigins } from '../../shared/config/load-config.js';
import type { OptionSpec } from '../../shared/config/option-spec.js';
import { SKELETON_OPTIONS } from '../../skeleton/cli.js';
import { throwsCode } from '../helpers/unit-errors.js';

const FP = 'SHA256:' + 'A'.repeat(43);
const TABLES: Record<string, readonly OptionSpec[]> = { relay: RELAY_OPTIONS, skeleton: SKELETON_OPTIONS, list: LIST_OPTIONS, connect: CONNECT_OPTIONS, stdio: STDIO_OPTIONS };
const own = (specs: readonly OptionSpec[]) => specs.filter((s) => s.key !== 'config');

function fileError(t: import('ava').ExecutionContext, specs: readonly OptionSpec[], data: Record<string, unknown>, key: string): void {
  const path = `/etc/burrow/${key}-test.toml`;
  const err = throwsCode(t, () => loadConfig(own(specs), { flags: {}, env: {}, file: { path, data } }), 'ERR_CONFIG', `${key} = ${JSON.stringify(data[key])}`);
  t.true(err?.message.includes(path) && err.message.includes(key), `names the file and the key: ${err?.message}`);
}

test('every option of every command has a distinct flag, BURROW_* twin and TOML key', (t) => {
  t.true(Object.keys(TABLES).length === 5);
  for (const [name, specs] of Object.entries(TABLES)) {
    t.true(specs.length > 3, name);
    for (const field of ['key', 'flag', 'env', 'toml'] as const) {
      const values = specs.map((s) => s[field]);
      t.is(new Set(values).size, values.length, `${name}: duplicate ${field}`);
    }
    for (const spec of specs) {
      t.regex(spec.env, /^BURROW_[A-Z0-9_]+$/, `${name} ${spec.key}`);
      t.is(spec.flag.split(' ')[0], `--${spec.toml}`, `${name}: the TOML key is the flag's name`);
    }
  }
});

test('a malformed fingerprint is refused at load time from the file, the environment and the flag', (t) => {
  for (const specs of [SKELETON_OPTIONS, LIST_OPTIONS]) {
    for (const bad of ['SHA256:short', 'sha256:' + 'A'.repeat(43), 'SHA256:' + '+'.repeat(43), 'A'.repeat(50)]) fileError(t, specs, { fingerprint: bad }, 'fingerprint');
    throwsCode(t, () => loadConfig(own(specs), { flags: {}, env: { BURROW_FINGERPRINT: 'SHA256:x' } }), 'ERR_USAGE');
    throwsCode(t, () => loadConfig(own(specs), { flags: { fingerprint: 'x' }, env: {} }), 'ERR_USAGE');
    t.is(loadConfig(own(specs), { flags: {}, env: {}, file: { path: 'f.toml', data: { fingerprint: FP } } }).fingerprint, FP);
  }
});

test('log levels, ports, HOST:PORT and int bounds are checked with the file named', (t) => {
  fileError(t, RELAY_OPTIONS, { 'log-level': 'loud' }, 'log-level');
  fileError(t, LIST_OPTIONS, { 'log-level': 'verbose' }, 'log-level');
  fileError(t, RELAY_OPTIONS, { 'client-port': 65536 }, 'client-port');
  fileError(t, RELAY_OPTIONS, { 'skeleton-port': 'seven' }, 'skeleton-port');
  fileError(t, RELAY_OPTIONS, { 'dead-after': 1 }, 'dead-after');
  fileError(t, SKELETON_OPTIONS, { relay: 'relay.example:99999' }, 'relay');
  fileError(t, SKELETON_OPTIONS, { relay: 'relay.example' }, 'relay');
  fileError(t, CONNECT_OPTIONS, { listen: '127.0.0.1' }, 'listen');
  fileError(t, SKELETON_OPTIONS, { pool: 65 }, 'pool');
  throwsCode(t, () => loadConfig(own(RELAY_OPTIONS), { flags: {}, env: { BURROW_LOG_LEVEL: 'chatty' } }), 'ERR_USAGE');
  t.is(loadConfig(own(RELAY_OPTIONS), { flags: { logLevel: 'debug' }, env: {} }).logLevel, 'debug');
});

test('--server specs are checked at load time, each element of the list, without reading secret files', (t) => {
  const good = 'web=127.0.0.1:80,secret-file=/nonexistent/web.secret,protocol=http,description=site,proxy-protocol=v2';
  t.deepEqual(loadConfig(own(SKELETON_OPTIONS), { flags: {}, env: {}, file: { path: 's.toml', data: { server: [good] } } }).server, [good]);
  for (const bad of [
    'web', // no =
    '-web=127.0.0.1:80,secret-file=f', // bad id
    'web=127.0.0.1,secret-file=f', // no port
    'web=127.0.0.1:80,secret-file=', // an empty secret file name
    'web=127.0.0.1:80,secret-file=f,colour=red', // unknown key
    'web=127.0.0.1:80,secret-file=f,proxy-protocol=v3',
    'web=127.0.0.1:80,secret-file=f,protocol=h t t p',
  ]) {
    fileError(t, SKELETON_OPTIONS, { server: [good, bad] }, 'server');
    throwsCode(t, () => loadConfig(own(SKELETON_OPTIONS), { flags: { server: [bad] }, env: {} }), 'ERR_USAGE', bad);
  }
});

test('one client.toml serves list, connect and stdio; a truly unknown key is still an error', (t) => {
  const data = { relay: 'relay.example:7000', fingerprint: FP, user: 'alice', json: true, listen: '127.0.0.1:8080', 'secret-file': 'web.secret', quiet: true };
  for (const specs of [LIST_OPTIONS, CONNECT_OPTIONS, STDIO_OPTIONS]) {
    const config = loadConfig(own(specs), { flags: {}, env: {}, siblingKeys: CLIENT_FILE_KEYS, file: { path: 'client.toml', data } });
    t.is(config.relay, 'relay.example:7000');
    t.is(config.listen, specs === CONNECT_OPTIONS ? '127.0.0.1:8080' : undefined, 'only connect takes --listen');
    const err = throwsCode(t, () => loadConfig(own(specs), { flags: {}, env: {}, siblingKeys: CLIENT_FILE_KEYS, file: { path: 'client.toml', data: { ...data, colour: 'blue' } } }), 'ERR_CONFIG');
    t.true(err?.message.includes('colour') && err.message.includes('client.toml'));
  }
  // A sibling's key is still checked by the subcommand that uses it.
  fileError(t, CONNECT_OPTIONS, { listen: 'nowhere' }, 'listen');
  // Without siblings (the relay's own file), another command's key is unknown.
  throwsCode(t, () => loadConfig(own(LIST_OPTIONS), { flags: {}, env: {}, file: { path: 'client.toml', data: { listen: '127.0.0.1:1' } } }), 'ERR_CONFIG');
});

test('origins: each value says whether it came from the default, the file, the environment or a flag', (t) => {
  const { config, origins } = loadConfigWithOrigins(own(RELAY_OPTIONS), {
    file: { path: 'relay.toml', data: { host: '127.0.0.1', 'client-port': 7100, drain: 5 } },
    env: { BURROW_CLIENT_PORT: '7200', BURROW_SKELETON_PORT: '7201' },
    flags: { skeletonPort: '7301' },
  });
  t.like(config, { host: '127.0.0.1', clientPort: 7200, skeletonPort: 7301, drain: 5, keys: 'keys' });
  t.like(origins, { host: 'file', clientPort: 'env', skeletonPort: 'flag', drain: 'file', keys: 'default' });
});

test('a relative path in a config file is relative to that file; flags, the environment and defaults to the working directory', (t) => {
  const file = (data: Record<string, unknown>) => ({ path: '/etc/burrow/sub/x.toml', data });
  const relay = loadConfig(own(RELAY_OPTIONS), {
    file: file({ keys: 'keys', users: '../users.json', 'admin-token-file': '/run/admin.token', 'audit-log': 'audit/audit.jsonl' }), env: {}, flags: {},
  });
  t.like(relay, { keys: '/etc/burrow/sub/keys', users: '/etc/burrow/users.json', adminTokenFile: '/run/admin.token', auditLog: '/etc/burrow/sub/audit/audit.jsonl' });
  t.like(loadConfig(own(RELAY_OPTIONS), { file: file({}), env: { BURROW_USERS: 'u.json' }, flags: {} }), { keys: 'keys', users: 'u.json' }, 'defaults and env stay as given');
  t.like(loadConfig(own(RELAY_OPTIONS), { file: file({ keys: 'k' }), env: {}, flags: { keys: 'flag-keys' } }), { keys: 'flag-keys' });

  const skeleton = loadConfig(own(SKELETON_OPTIONS), {
    file: file({ 'password-file': 'home.pass', 'known-relays': 'known_relays', server: ['web=127.0.0.1:80,secret-file=web.secret,description=my site', 'ssh=127.0.0.1:22,secret-file=/abs/ssh.secret'] }),
    env: {}, flags: {},
  });
  t.like(skeleton, { passwordFile: '/etc/burrow/sub/home.pass', knownRelays: '/etc/burrow/sub/known_relays' });
  t.deepEqual(skeleton.server, ['web=127.0.0.1:80,secret-file=/etc/burrow/sub/web.secret,description=my site', 'ssh=127.0.0.1:22,secret-file=/abs/ssh.secret']);
  const flagServer = loadConfig(own(SKELETON_OPTIONS), { file: file({}), env: {}, flags: { server: ['web=127.0.0.1:80,secret-file=web.secret'] } });
  t.deepEqual(flagServer.server, ['web=127.0.0.1:80,secret-file=web.secret']);

  t.like(loadConfig(own(CONNECT_OPTIONS), { file: file({ 'secret-file': 'home-http.secret', 'password-file': 'alice.pass' }), env: {}, flags: {} }), {
    secretFile: '/etc/burrow/sub/home-http.secret', passwordFile: '/etc/burrow/sub/alice.pass',
  });
});
