/**
 * shared/config/load-config.ts + option-spec.ts: defaults < file < env < flags for every kind of option,
 * unknown file keys refused, and every value checked (a bad file is ERR_CONFIG, a bad env or flag ERR_USAGE).
 */
import test from 'ava';
import { loadConfig, type ConfigSources } from '../../shared/config/load-config.js';
import { option } from '../../shared/config/option-spec.js';
import { throwsCode } from '../helpers/unit-errors.js';

const SPECS = [
  option('--host <host>', 'string', 'address', { default: '0.0.0.0' }),
  option('--client-port <port>', 'port', 'port', { default: 7000 }),
  option('--drain <seconds>', 'int', 'seconds', { default: 30, min: 1, max: 3600 }),
  option('--json', 'bool', 'json output', { default: false }),
  option('--server <spec>', 'list', 'servers', { default: ['default'] }),
  option('--relay <host:port>', 'hostport', 'relay', { default: 'localhost:7001' }),
];
const PATH = '/etc/burrow/relay.toml';

function load(sources: Partial<ConfigSources>): Record<string, unknown> {
  return loadConfig(SPECS, { flags: {}, env: {}, ...sources });
}

test('option() derives the key, TOML key and BURROW_* twin from the flag', (t) => {
  const spec = option('--client-port <port>', 'port', 'port');
  t.like(spec, { key: 'clientPort', toml: 'client-port', env: 'BURROW_CLIENT_PORT', kind: 'port' });
  t.like(option('--password-file <file>', 'string', 'f'), { key: 'passwordFile', toml: 'password-file', env: 'BURROW_PASSWORD_FILE' });
});

test('precedence for every kind: defaults < file < env < flags', (t) => {
  const file = { path: PATH, data: { host: 'file.host', 'client-port': 7100, drain: 10, json: true, server: ['f1', 'f2'], relay: 'file:1' } };
  const env = { BURROW_HOST: 'env.host', BURROW_CLIENT_PORT: '7200', BURROW_DRAIN: '20', BURROW_JSON: 'false', BURROW_SERVER: 'e1,e2', BURROW_RELAY: 'env:2' };
  const flags = { host: 'flag.host', clientPort: '7300', drain: '40', json: true, server: ['x1'], relay: '[::1]:3' };

  t.deepEqual(load({}), { host: '0.0.0.0', clientPort: 7000, drain: 30, json: false, server: ['default'], relay: 'localhost:7001' });
  t.deepEqual(load({ file }), { host: 'file.host', clientPort: 7100, drain: 10, json: true, server: ['f1', 'f2'], relay: 'file:1' });
  t.deepEqual(load({ file, env }), { host: 'env.host', clientPort: 7200, drain: 20, json: false, server: ['e1', 'e2'], relay: 'env:2' });
  t.deepEqual(load({ file, env, flags }), { host: 'flag.host', clientPort: 7300, drain: 40, json: true, server: ['x1'], relay: '[::1]:3' });
});

test('each layer overrides only the keys it sets; an empty env variable sets nothing', (t) => {
  const config = load({
    file: { path: PATH, data: { drain: 5 } },
    env: { BURROW_HOST: 'env.host', BURROW_DRAIN: '' },
    flags: { clientPort: 0 },
  });
  t.deepEqual(config, { host: 'env.host', clientPort: 0, drain: 5, json: false, server: ['default'], relay: 'localhost:7001' });
});

test('an unknown key in the file is ERR_CONFIG naming the key and the file', (t) => {
  const err = throwsCode(t, () => load({ file: { path: PATH, data: { 'client-prot': 7000 } } }), 'ERR_CONFIG');
  t.true(err?.message.includes('client-prot'), 'names the key');
  t.true(err?.message.includes(PATH), 'names the file');
  // Keys are TOML spellings: the camelCase attribute name is not one.
  throwsCode(t, () => load({ file: { path: PATH, data: { clientPort: 7000 } } }), 'ERR_CONFIG');
});

test('a bad port is ERR_CONFIG in the file and ERR_USAGE in the environment or a flag', (t) => {
  for (const bad of [70_000, -1, 80.5, 'eighty', true]) {
    throwsCode(t, () => load({ file: { path: PATH, data: { 'client-port': bad } } }), 'ERR_CONFIG', `file ${String(bad)}`);
  }
  for (const bad of ['70000', 'abc', '-1', '80.5', '0x50']) {
    throwsCode(t, () => load({ env: { BURROW_CLIENT_PORT: bad } }), 'ERR_USAGE', `env ${bad}`);
    throwsCode(t, () => load({ flags: { clientPort: bad } }), 'ERR_USAGE', `flag ${bad}`);
  }
  t.is(load({ env: { BURROW_CLIENT_PORT: '0' } }).clientPort, 0, 'port 0 is allowed');
  t.is(load({ flags: { clientPort: '65535' } }).clientPort, 65535);
});

test('int options honour their bounds', (t) => {
  t.is(load({ env: { BURROW_DRAIN: '3600' } }).drain, 3600);
  throwsCode(t, () => load({ env: { BURROW_DRAIN: '3601' } }), 'ERR_USAGE');
  throwsCode(t, () => load({ flags: { drain: '0' } }), 'ERR_USAGE');
  throwsCode(t, () => load({ file: { path: PATH, data: { drain: 0 } } }), 'ERR_CONFIG');
});

test('a list from the environment is split on commas, trimmed, empties dropped', (t) => {
  t.deepEqual(load({ env: { BURROW_SERVER: 'web=127.0.0.1:80, ssh=127.0.0.1:22,,' } }).server, ['web=127.0.0.1:80', 'ssh=127.0.0.1:22']);
  t.deepEqual(load({ env: { BURROW_SERVER: 'one' } }).server, ['one']);
  t.deepEqual(load({ file: { path: PATH, data: { server: 'solo' } } }).server, ['solo'], 'a single string in the file is a list of one');
  throwsCode(t, () => load({ file: { path: PATH, data: { server: ['a', 1] } } }), 'ERR_CONFIG');
});

test('bool parsing: 1/true/yes/on and 0/false/no/off in any case; anything else is refused', (t) => {
  for (const yes of ['1', 'true', 'TRUE', 'yes', 'On']) t.is(load({ env: { BURROW_JSON: yes } }).json, true, yes);
  for (const no of ['0', 'false', 'False', 'no', 'OFF']) t.is(load({ file: { path: PATH, data: { json: true } }, env: { BURROW_JSON: no } }).json, false, no);
  for (const bad of ['maybe', '2', 'y']) throwsCode(t, () => load({ env: { BURROW_JSON: bad } }), 'ERR_USAGE', bad);
  throwsCode(t, () => load({ file: { path: PATH, data: { json: 'maybe' } } }), 'ERR_CONFIG');
  throwsCode(t, () => load({ file: { path: PATH, data: { json: 1 } } }), 'ERR_CONFIG');
});

test('strings must be non-empty and host:port must have both halves', (t) => {
  throwsCode(t, () => load({ file: { path: PATH, data: { host: '' } } }), 'ERR_CONFIG');
  throwsCode(t, () => load({ flags: { host: '' } }), 'ERR_USAGE');
  for (const good of ['relay.example:7001', '127.0.0.1:0', '[::1]:7001']) t.is(load({ flags: { relay: good } }).relay, good);
  for (const bad of ['relay.example', ':7001', 'a:b:7001', 'host:123456', 'host:port']) {
    throwsCode(t, () => load({ env: { BURROW_RELAY: bad } }), 'ERR_USAGE', bad);
  }
});

test('loadConfig does not change its inputs', (t) => {
  const data = { host: 'file.host' };
  const env = { BURROW_DRAIN: '7' };
  const flags = { json: true };
  load({ file: { path: PATH, data }, env, flags });
  t.deepEqual([data, env, flags], [{ host: 'file.host' }, { BURROW_DRAIN: '7' }, { json: true }]);
});

// Regression (was a bug in shared/config/load-config.ts coerce): whether a bad value is ERR_CONFIG or ERR_USAGE is decided by
// whether its location text starts with "--" or "BURROW_", and for the file that text starts with the
// file's path. A config file whose path starts with BURROW_ (or --) reports its errors as ERR_USAGE.
// Fix: pass the code (or the source kind) to coerce() explicitly instead of sniffing the location string.
test('a bad value in a file named BURROW_relay.toml is still ERR_CONFIG', (t) => {
  throwsCode(t, () => load({ file: { path: 'BURROW_relay.toml', data: { 'client-port': 70_000 } } }), 'ERR_CONFIG');
});
