/**
 * Issue 13, finding 8 (every decoder option set, never a library default): jose accepts compressed JWEs
 * (zip: DEF) unless told not to, which docs/PROTOCOL.md does not allow; 784 bytes before authentication made
 * the relay inflate and parse 240 KB. A compressed login, even with the right password, is refused; so is
 * a compressed Welcome at the peer.
 */
import test from 'ava';
import { CompactEncrypt } from 'jose';
import { randomBytes } from 'node:crypto';
import { openLogin } from '../../shared/crypto/login-token.js';
import { openWelcome } from '../../shared/crypto/welcome-token.js';
import { x25519PublicFromRaw } from '../../shared/crypto/x25519-raw.js';
import { BurrowError } from '../../shared/errors.js';
import { decodeBody, encodeFrame } from '../../shared/protocol/codec.js';
import { parseRelayHandshake } from '../../shared/protocol/parse.js';
import { Redacted } from '../../shared/redacted.js';
import { greetFrom } from '../helpers/security-peer.js';
import { PASSWORD, startWorld } from '../helpers/world.js';

test('Finding 8: a compressed login with the right password and challenge gets ERR_AUTH_FAILED, not a session', async (t) => {
  const world = await startWorld(t);
  const greeting = await greetFrom(t, world.clientTarget, 'client');
  if (!('hello' in greeting)) throw new Error('no hello');
  const body = JSON.stringify({
    u: 'alice', p: PASSWORD, c: greeting.hello.challenge.toString('base64url'), k: randomBytes(32).toString('base64url'), port: 'client',
  });
  const jwe = await new CompactEncrypt(new TextEncoder().encode(body))
    .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', cty: 'burrow-login-v1', zip: 'DEF' })
    .encrypt(x25519PublicFromRaw(greeting.hello.eph));
  greeting.peer.send(encodeFrame({ t: 'login', jwe }));
  const answer = await greeting.peer.next();
  t.deepEqual(parseRelayHandshake(decodeBody(answer!)), { t: 'error', code: 'ERR_AUTH_FAILED' });
  t.is(world.relay.runtime.core.state.sessions.size, 0);
});

test('Finding 8: openLogin and openWelcome refuse zip: DEF; the same JWE uncompressed opens', async (t) => {
  const { generateKeyPairSync } = await import('node:crypto');
  const eph = generateKeyPairSync('x25519');
  const body = new TextEncoder().encode(JSON.stringify({ u: 'a', p: 'b', c: randomBytes(32).toString('base64url'), k: randomBytes(32).toString('base64url'), port: 'client' }));
  const seal = (zip: boolean) => new CompactEncrypt(body).setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', cty: 'burrow-login-v1', ...(zip ? { zip: 'DEF' } : {}) }).encrypt(eph.publicKey);
  await t.throwsAsync(openLogin(eph.privateKey, await seal(true)), { instanceOf: BurrowError });
  t.is((await openLogin(eph.privateKey, await seal(false))).user, 'a');
  const key = randomBytes(32);
  const grant = new TextEncoder().encode(JSON.stringify({ sid: 's', key: randomBytes(32).toString('base64url'), exp: 1, ping: 1 }));
  const welcome = (zip: boolean) => new CompactEncrypt(grant).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: 'burrow-welcome-v1', ...(zip ? { zip: 'DEF' } : {}) }).encrypt(key);
  await t.throwsAsync(openWelcome(new Redacted(key), await welcome(true)), { instanceOf: BurrowError });
  t.is((await openWelcome(new Redacted(key), await welcome(false))).sid, 's');
});

test('Bounds: msgpack extension values (Set, RegExp, Error, BigInt, typed arrays, structured clones) are refused as malformed while decoding, not built', async (t) => {
  const { Packr } = await import('msgpackr');
  const foreign = new Packr({ useRecords: false, moreTypes: true });
  const values: [string, unknown][] = [
    ['Set', new Set([1, 2])], ['RegExp', /x+/], ['Error', new Error('e')], ['BigInt', 10n ** 30n], ['Float32Array', new Float32Array([1, 2])],
  ];
  for (const [what, value] of values) {
    const bytes = foreign.pack({ t: 'list', id: 1, after: value });
    const err = t.throws(() => decodeBody(bytes), { instanceOf: BurrowError }, what);
    t.is(err?.code, 'ERR_MALFORMED_FRAME', what);
  }
  // Ordinary messages, binary fields included, still decode.
  t.deepEqual(decodeBody(encodeFrame({ t: 'x', b: Buffer.from([1, 2]) }).subarray(4)), { t: 'x', b: Buffer.from([1, 2]) });
});
