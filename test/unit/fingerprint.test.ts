import test from 'ava';
import type { BurrowError } from '../../shared/errors.js';
import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import {
  fingerprintMatches,
  fingerprintOf,
  fingerprintOfKey,
  parseFingerprint,
  type Ed25519PublicJwk,
} from '../../shared/crypto/fingerprint.js';

function freshJwk(): Ed25519PublicJwk {
  const { publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x as string };
}

test('RFC 8037 A.3 thumbprint example', (t) => {
  const jwk: Ed25519PublicJwk = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' };
  t.is(fingerprintOf(jwk), 'SHA256:kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
});

test('sync fingerprint agrees with jose calculateJwkThumbprint', async (t) => {
  for (let i = 0; i < 20; i++) {
    const jwk = freshJwk();
    t.is(fingerprintOf(jwk), 'SHA256:' + (await calculateJwkThumbprint(jwk, 'sha256')));
  }
});

test('member order and extra members do not change the fingerprint', (t) => {
  const jwk = freshJwk();
  const reordered = JSON.parse(JSON.stringify({ x: jwk.x, kty: 'OKP', crv: 'Ed25519', kid: 'relay', use: 'sig' })) as Ed25519PublicJwk;
  t.is(fingerprintOf(reordered), fingerprintOf(jwk));
});

test('fingerprintOfKey works on public and private KeyObjects and refuses other key types', (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = { kty: 'OKP', crv: 'Ed25519', x: publicKey.export({ format: 'jwk' }).x as string } as const;
  t.is(fingerprintOfKey(publicKey), fingerprintOf(jwk));
  t.is(fingerprintOfKey(privateKey), fingerprintOf(jwk));
  t.is(t.throws<BurrowError>(() => fingerprintOfKey(generateKeyPairSync('x25519').publicKey))?.code, 'ERR_CONFIG');
});

test('fingerprintMatches: exact form, whitespace trimmed, length mismatch is false', (t) => {
  const fp = fingerprintOf(freshJwk());
  t.true(fingerprintMatches(fp, fp));
  t.true(fingerprintMatches(` ${fp}\n`, fp));
  t.false(fingerprintMatches(fp, fingerprintOf(freshJwk())));
  t.false(fingerprintMatches(fp.slice('SHA256:'.length), fp));
  t.false(fingerprintMatches(fp + 'A', fp));
  t.false(fingerprintMatches('', fp));
  const flipped = fp.slice(0, -1) + (fp.endsWith('A') ? 'B' : 'A');
  t.false(fingerprintMatches(fp, flipped));
});

test('parseFingerprint accepts the printed form and refuses others with the requested code', (t) => {
  const fp = fingerprintOf(freshJwk());
  t.is(parseFingerprint(`  ${fp}\n`), fp);
  const bad = ['', fp.slice(7), fp.slice(0, -1), fp + 'A', 'SHA256:' + 'a'.repeat(42) + '=', 'sha256:' + fp.slice(7), 'SHA256:' + 'a+'.repeat(21) + 'a'];
  for (const text of bad) {
    t.is(t.throws<BurrowError>(() => parseFingerprint(text))?.code, 'ERR_USAGE', text);
    t.is(t.throws<BurrowError>(() => parseFingerprint(text, { code: 'ERR_CONFIG', source: 'skeleton.toml: fingerprint' }))?.code, 'ERR_CONFIG');
  }
});
