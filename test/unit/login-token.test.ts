/**
 * Login and Welcome tokens: the login is sealed to the relay's ephemeral key (S1: only the real relay reads
 * the password), the welcome is sealed under the client key inside the login (only that relay can answer).
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { openLogin, sealLogin, type LoginClaims } from '../../shared/crypto/login-token.js';
import { openWelcome, sealWelcome, type SessionGrant } from '../../shared/crypto/welcome-token.js';
import { generateX25519 } from '../../shared/crypto/x25519-raw.js';
import { Redacted } from '../../shared/redacted.js';
import { rejectsCode } from '../helpers/unit-errors.js';

const PASSWORD = 'correct horse battery staple';
const USER = 'alice.example';

function claims(overrides: Partial<LoginClaims> = {}): LoginClaims {
  return {
    user: USER,
    password: new Redacted(PASSWORD),
    challenge: randomBytes(32),
    clientKey: new Redacted(randomBytes(32)),
    port: 'skeleton',
    ...overrides,
  };
}

function grant(): SessionGrant {
  return { sid: 'c2Vzc2lvbi1pZA', sessionKey: new Redacted(randomBytes(32)), exp: 1_700_086_400_000, pingMs: 10_000 };
}

/** Flips one base64url character of a compact JWE part (0 header .. 4 tag). */
function tamper(jwe: string, part: number): string {
  const parts = jwe.split('.');
  const p = parts[part]!;
  const i = Math.floor(p.length / 2);
  parts[part] = p.slice(0, i) + (p[i] === 'A' ? 'B' : 'A') + p.slice(i + 1);
  return parts.join('.');
}

test('sealLogin -> openLogin returns the same user, password, challenge, client key and port', async (t) => {
  const eph = generateX25519();
  const sent = claims();
  const jwe = await sealLogin(eph.raw, sent);
  t.is(jwe.split('.').length, 5);
  const got = await openLogin(eph.privateKey, jwe);
  t.is(got.user, USER);
  t.is(got.password.reveal(), PASSWORD);
  t.deepEqual(got.challenge, sent.challenge);
  t.deepEqual(got.clientKey.reveal(), sent.clientKey.reveal());
  t.is(got.port, 'skeleton');
});

test('the opened password and client key print as [redacted]', async (t) => {
  const eph = generateX25519();
  const got = await openLogin(eph.privateKey, await sealLogin(eph.raw, claims()));
  t.is(String(got.password), '[redacted]');
  t.is(`${got.clientKey}`, '[redacted]');
  t.false(JSON.stringify(got).includes(PASSWORD));
  t.false(inspect(got, { depth: 5 }).includes(PASSWORD));
});

test('a login sealed to another ephemeral key does not open: ERR_AUTH_FAILED', async (t) => {
  const eph = generateX25519();
  const jwe = await sealLogin(eph.raw, claims());
  await rejectsCode(t, () => openLogin(generateX25519().privateKey, jwe), 'ERR_AUTH_FAILED');
});

test('a tampered login does not open: ERR_AUTH_FAILED', async (t) => {
  const eph = generateX25519();
  const jwe = await sealLogin(eph.raw, claims());
  for (const part of [0, 2, 3, 4]) await rejectsCode(t, () => openLogin(eph.privateKey, tamper(jwe, part)), 'ERR_AUTH_FAILED', `part ${part}`);
  for (const garbage of ['', 'a.b.c.d.e', jwe.slice(0, -2), `${jwe}.x`]) {
    await rejectsCode(t, () => openLogin(eph.privateKey, garbage), 'ERR_AUTH_FAILED', JSON.stringify(garbage.slice(0, 20)));
  }
});

test('a login with a challenge that is not 32 bytes does not open: ERR_AUTH_FAILED', async (t) => {
  const eph = generateX25519();
  const jwe = await sealLogin(eph.raw, claims({ challenge: randomBytes(31) }));
  await rejectsCode(t, () => openLogin(eph.privateKey, jwe), 'ERR_AUTH_FAILED');
});

test('S1: the login JWE shows neither password nor user in clear, in any encoding', async (t) => {
  const eph = generateX25519();
  const sent = claims();
  const jwe = await sealLogin(eph.raw, sent);
  const decodedParts = jwe.split('.').map((p) => Buffer.from(p, 'base64url').toString('latin1'));
  const secrets = [PASSWORD, USER, sent.challenge.toString('base64url'), sent.clientKey.reveal().toString('base64url')];
  for (const secret of secrets) {
    t.false(jwe.includes(secret), 'in the compact text');
    t.false(jwe.includes(Buffer.from(secret).toString('base64url')), 'as base64url');
    t.false(decodedParts.some((p) => p.includes(secret)), 'inside a decoded part');
  }
  // Two logins with the same claims share no ciphertext: fresh ECDH-ES keys each time.
  const again = await sealLogin(eph.raw, sent);
  t.not(again.split('.')[3], jwe.split('.')[3]);
});

test('sealWelcome -> openWelcome returns the same grant', async (t) => {
  const clientKey = new Redacted(randomBytes(32));
  const sent = grant();
  const got = await openWelcome(clientKey, await sealWelcome(clientKey, sent));
  t.is(got.sid, sent.sid);
  t.deepEqual(got.sessionKey.reveal(), sent.sessionKey.reveal());
  t.is(got.exp, sent.exp);
  t.is(got.pingMs, sent.pingMs);
  t.is(String(got.sessionKey), '[redacted]');
});

test('a welcome does not open under another client key: ERR_RELAY_KEY_MISMATCH', async (t) => {
  const jwe = await sealWelcome(new Redacted(randomBytes(32)), grant());
  await rejectsCode(t, () => openWelcome(new Redacted(randomBytes(32)), jwe), 'ERR_RELAY_KEY_MISMATCH');
});

test('a tampered or foreign welcome is ERR_RELAY_KEY_MISMATCH', async (t) => {
  const clientKey = new Redacted(randomBytes(32));
  const sent = grant();
  const jwe = await sealWelcome(clientKey, sent);
  for (const part of [0, 2, 3, 4]) await rejectsCode(t, () => openWelcome(clientKey, tamper(jwe, part)), 'ERR_RELAY_KEY_MISMATCH', `part ${part}`);
  await rejectsCode(t, () => openWelcome(clientKey, 'a.b.c.d.e'), 'ERR_RELAY_KEY_MISMATCH');
  t.false(jwe.includes(sent.sessionKey.reveal().toString('base64url')), 'the session key is not in clear');
});

test('a login token is not accepted as a welcome, nor a welcome as a login', async (t) => {
  const eph = generateX25519();
  const sent = claims();
  const login = await sealLogin(eph.raw, sent);
  await rejectsCode(t, () => openWelcome(sent.clientKey, login), 'ERR_RELAY_KEY_MISMATCH');
  const welcome = await sealWelcome(sent.clientKey, grant());
  await rejectsCode(t, () => openLogin(eph.privateKey, welcome), 'ERR_AUTH_FAILED');
});
