import test from 'ava';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprintOf, FINGERPRINT_RE } from '../../shared/crypto/fingerprint.js';
import { generateRelayKeys, loadRelayKeys, loadRelayPublicKey, relayKeyPaths } from '../../shared/crypto/relay-key-files.js';

async function tempDir(t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'burrow-keys-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const codeOf = (err: unknown): unknown => (err as { code?: unknown } | undefined)?.code;

test('generate creates a 0700 dir, a 0600 private file and a public file, and nothing else', async (t) => {
  const dir = join(await tempDir(t), 'nested', 'keys');
  const identity = await generateRelayKeys(dir);
  const { privatePath, publicPath } = relayKeyPaths(dir);
  t.is((await stat(privatePath)).mode & 0o777, 0o600);
  t.is((await stat(dir)).mode & 0o777, 0o700);
  t.deepEqual(JSON.parse(await readFile(publicPath, 'utf8')), identity.publicJwk);
  t.deepEqual((await readdir(dir)).sort(), ['relay.key.jwk', 'relay.pub.jwk']);
  t.regex(identity.fingerprint, FINGERPRINT_RE);
  t.deepEqual(identity.warnings, []);
});

test('load round-trips: same fingerprint, the private key signs for the public key', async (t) => {
  const dir = await tempDir(t);
  const generated = await generateRelayKeys(dir);
  const loaded = await loadRelayKeys(dir);
  t.is(loaded.fingerprint, generated.fingerprint);
  t.is((await loadRelayKeys(dir)).fingerprint, generated.fingerprint);
  t.is(fingerprintOf(loaded.publicJwk), generated.fingerprint);
  t.is((await loadRelayPublicKey(dir)).fingerprint, generated.fingerprint);
  const message = Buffer.from('hello');
  t.true(verify(null, message, generated.publicKey, sign(null, message, loaded.privateKey)));
  t.deepEqual(loaded.warnings, []);
});

test('refuses to overwrite without force; force makes a new identity', async (t) => {
  const dir = await tempDir(t);
  const first = await generateRelayKeys(dir);
  const err = await t.throwsAsync(generateRelayKeys(dir));
  t.is(codeOf(err), 'ERR_CONFIG');
  t.is((await loadRelayKeys(dir)).fingerprint, first.fingerprint);
  const second = await generateRelayKeys(dir, { force: true });
  t.not(second.fingerprint, first.fingerprint);
  t.is((await loadRelayKeys(dir)).fingerprint, second.fingerprint);
  t.is((await stat(relayKeyPaths(dir).privatePath)).mode & 0o777, 0o600);
});

test('a group- or world-readable private key loads with a warning', async (t) => {
  const dir = await tempDir(t);
  await generateRelayKeys(dir);
  await chmod(relayKeyPaths(dir).privatePath, 0o644);
  const loaded = await loadRelayKeys(dir);
  t.is(loaded.warnings.length, 1);
});

test('missing files are ERR_CONFIG naming the file', async (t) => {
  const dir = await tempDir(t);
  const err = await t.throwsAsync(loadRelayKeys(dir));
  t.is(codeOf(err), 'ERR_CONFIG');
  t.true(err?.message.includes(relayKeyPaths(dir).privatePath));
  await generateRelayKeys(dir);
  await rm(relayKeyPaths(dir).publicPath);
  const pubErr = await t.throwsAsync(loadRelayKeys(dir));
  t.is(codeOf(pubErr), 'ERR_CONFIG');
  t.true(pubErr?.message.includes(relayKeyPaths(dir).publicPath));
});

test('corrupt or wrong files are ERR_CONFIG and never quote the private key', async (t) => {
  const dir = await tempDir(t);
  await generateRelayKeys(dir);
  const { privatePath, publicPath } = relayKeyPaths(dir);
  const original = await readFile(privatePath, 'utf8');
  const d = (JSON.parse(original) as { d: string }).d;
  const x25519 = generateKeyPairSync('x25519').privateKey.export({ format: 'jwk' });
  const otherEd = generateKeyPairSync('ed25519');
  const corruptions: Array<[string, string]> = [
    [privatePath, original.slice(0, -10)],
    [privatePath, '[]'],
    [privatePath, JSON.stringify(x25519)],
    [privatePath, JSON.stringify({ ...JSON.parse(original), d: d.slice(0, 20) })],
    [privatePath, JSON.stringify({ ...JSON.parse(original), d: undefined })],
    [publicPath, JSON.stringify(otherEd.publicKey.export({ format: 'jwk' }))],
    [publicPath, JSON.stringify(otherEd.privateKey.export({ format: 'jwk' }))],
  ];
  for (const [path, content] of corruptions) {
    const saved = await readFile(path, 'utf8');
    await writeFile(path, content, { mode: 0o600 });
    const err = await t.throwsAsync(loadRelayKeys(dir));
    t.is(codeOf(err), 'ERR_CONFIG', content);
    t.false(err?.message.includes(d.slice(0, 20)) ?? true);
    await writeFile(path, saved);
  }
  t.truthy(await loadRelayKeys(dir));
});
