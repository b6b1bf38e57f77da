/** The admin HTTP's binding rule (loopback or a token) and its bearer token check. */
import test from 'ava';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { checkAdminExposure, isLoopbackHost, parseAdminSetting } from '../../relay/admin/admin-binding.js';
import { AdminToken, readAdminToken } from '../../relay/admin/admin-token.js';
import { tempDir } from '../helpers/world.js';

const codeOf = (err: unknown): unknown => (err as { code?: unknown } | undefined)?.code;

test('--admin takes HOST:PORT, [V6]:PORT or off; anything else is a usage error naming the option', (t) => {
  t.deepEqual(parseAdminSetting('127.0.0.1:7002', '--admin'), { host: '127.0.0.1', port: 7002 });
  t.deepEqual(parseAdminSetting('[::1]:0', '--admin'), { host: '::1', port: 0 });
  t.is(parseAdminSetting('off', '--admin'), 'off');
  for (const bad of ['7002', '127.0.0.1', '127.0.0.1:70000', 'host:port', '']) {
    const err = t.throws(() => parseAdminSetting(bad, '--admin'));
    t.is(codeOf(err), 'ERR_USAGE', bad);
    t.regex(err?.message ?? '', /--admin/);
  }
});

test('only loopback addresses count as loopback; elsewhere a token is required', (t) => {
  for (const host of ['127.0.0.1', '127.9.9.9', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost']) t.true(isLoopbackHost(host), host);
  for (const host of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'relay.example.net', '::ffff:10.0.0.1', '128.0.0.1']) t.false(isLoopbackHost(host), host);
  t.notThrows(() => checkAdminExposure({ host: '127.0.0.1', port: 7002 }, false));
  t.notThrows(() => checkAdminExposure('off', false));
  t.notThrows(() => checkAdminExposure({ host: '0.0.0.0', port: 7002 }, true));
  t.is(codeOf(t.throws(() => checkAdminExposure({ host: '0.0.0.0', port: 7002 }, false))), 'ERR_CONFIG');
  t.is(codeOf(t.throws(() => checkAdminExposure({ host: '10.0.0.1', port: 7002 }, false, 'ERR_USAGE'))), 'ERR_USAGE');
});

test('the token matches only "Bearer <token>" exactly, and never prints', (t) => {
  const secret = 'a-very-long-admin-token-1234567890';
  const token = new AdminToken(secret);
  t.true(token.allows(`Bearer ${secret}`));
  t.true(token.allows(`bearer ${secret}`));
  for (const header of [undefined, '', secret, `Bearer ${secret}x`, `Bearer ${secret.slice(0, -1)}`, `Basic ${secret}`, `Bearer ${secret} extra`]) {
    t.false(token.allows(header), String(header));
  }
  t.false(`${String(token)} ${JSON.stringify({ token })} ${inspect(token)}`.includes(secret));
  t.is(codeOf(t.throws(() => new AdminToken('short'))), 'ERR_CONFIG');
});

test('the token file: first line, trimmed; empty or missing files are config errors; a readable file is warned about', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'admin.token');
  await writeFile(path, '  token-from-the-file-0123456789  \nsecond line\n', { mode: 0o600 });
  const warnings: string[] = [];
  t.true((await readAdminToken(path, (w) => warnings.push(w))).allows('Bearer token-from-the-file-0123456789'));
  t.deepEqual(warnings, []);
  await chmod(path, 0o644);
  await readAdminToken(path, (w) => warnings.push(w));
  t.is(warnings.length, 1);
  t.false(warnings[0]?.includes('token-from-the-file') ?? true);
  await writeFile(path, '\n');
  t.is(codeOf(await t.throwsAsync(readAdminToken(path))), 'ERR_CONFIG');
  t.is(codeOf(await t.throwsAsync(readAdminToken(join(dir, 'missing')))), 'ERR_CONFIG');
});
