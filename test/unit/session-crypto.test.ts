/**
 * The per-session crypto: sealed control frames (S4), keys derived from the session key, attach proofs
 * (S7), the Hello signature over the relay's ephemeral key (S3), and the ephemeral key ring.
 */
import test from 'ava';
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { attachMac, verifyAttachMac, type AttachClaim } from '../../shared/crypto/attach-proof.js';
import { ControlOpener, ControlSealer } from '../../shared/crypto/control-cipher.js';
import { EphemeralKeyRing } from '../../shared/crypto/ephemeral-key.js';
import { signHelloKey, verifyHelloKey } from '../../shared/crypto/hello-signature.js';
import { deriveSessionKeys, publicLegKey } from '../../shared/crypto/session-keys.js';
import { x25519RawPublic } from '../../shared/crypto/x25519-raw.js';
import { PROTOCOL_VERSION } from '../../shared/protocol/messages.js';
import { throwsCode } from '../helpers/unit-errors.js';

const FRAMES = ['advertise', 'list', 'ping 1', 'pong 1', ''].map((s) => Buffer.from(s));

function pair(): { sealer: ControlSealer; opener: ControlOpener; key: Buffer } {
  const key = randomBytes(32);
  return { sealer: new ControlSealer(key), opener: new ControlOpener(key), key };
}

// ---- control-cipher ----

test('control frames round trip in order, and equal plaintexts seal differently', (t) => {
  const { sealer, opener } = pair();
  const sealed = FRAMES.map((f) => sealer.seal(f));
  t.deepEqual(sealed.map((s) => opener.open(s)), FRAMES);
  const again = new ControlSealer(randomBytes(32));
  t.notDeepEqual(again.seal(Buffer.from('x')), again.seal(Buffer.from('x')));
});

test('a replayed control frame fails with ERR_DECRYPT', (t) => {
  const { sealer, opener } = pair();
  const first = sealer.seal(FRAMES[0]!);
  t.deepEqual(opener.open(first), FRAMES[0]);
  throwsCode(t, () => opener.open(first), 'ERR_DECRYPT');
});

test('a reordered pair fails with ERR_DECRYPT', (t) => {
  const { sealer, opener } = pair();
  const a = sealer.seal(FRAMES[0]!);
  const b = sealer.seal(FRAMES[1]!);
  throwsCode(t, () => opener.open(b), 'ERR_DECRYPT');
  // The failed frame did not advance the counter: the right order still opens.
  t.deepEqual(opener.open(a), FRAMES[0]);
  t.deepEqual(opener.open(b), FRAMES[1]);
});

test('a dropped frame makes the next one fail', (t) => {
  const { sealer, opener } = pair();
  sealer.seal(FRAMES[0]!);
  throwsCode(t, () => opener.open(sealer.seal(FRAMES[1]!)), 'ERR_DECRYPT');
});

test('every flipped bit fails with ERR_DECRYPT', (t) => {
  const plain = Buffer.from('list servers');
  const key = randomBytes(32);
  const sealed = new ControlSealer(key).seal(plain);
  for (let bit = 0; bit < sealed.length * 8; bit++) {
    const tampered = Buffer.from(sealed);
    tampered[bit >> 3]! ^= 1 << (bit & 7);
    throwsCode(t, () => new ControlOpener(key).open(tampered), 'ERR_DECRYPT', `bit ${bit}`);
  }
  t.deepEqual(new ControlOpener(key).open(sealed), plain);
});

test('a truncated frame fails with ERR_DECRYPT, down to an empty one', (t) => {
  const { sealer, key } = pair();
  const sealed = sealer.seal(Buffer.from('advertise web'));
  for (const length of [sealed.length - 1, 16, 15, 1, 0]) {
    throwsCode(t, () => new ControlOpener(key).open(sealed.subarray(0, length)), 'ERR_DECRYPT', `${length} bytes`);
  }
});

test('an opener keyed for the other direction cannot open', (t) => {
  const keys = deriveSessionKeys(randomBytes(32), 'sid-1');
  const sealed = new ControlSealer(keys.peerToRelay).seal(Buffer.from('ping'));
  throwsCode(t, () => new ControlOpener(keys.relayToPeer).open(sealed), 'ERR_DECRYPT');
  t.deepEqual(new ControlOpener(keys.peerToRelay).open(sealed), Buffer.from('ping'));
});

// ---- session-keys ----

test('session keys: three distinct 32-byte keys, deterministic, and bound to key and sid', (t) => {
  const sessionKey = randomBytes(32);
  const keys = deriveSessionKeys(sessionKey, 'sid-a');
  const all = [keys.peerToRelay, keys.relayToPeer, keys.attach];
  for (const k of all) t.is(k.length, 32);
  t.is(new Set(all.map((k) => k.toString('hex'))).size, 3, 'directions and attach key differ');
  t.false(all.some((k) => k.equals(sessionKey)), 'no derived key is the session key itself');
  t.deepEqual(deriveSessionKeys(Buffer.from(sessionKey), 'sid-a'), keys);

  const otherSid = deriveSessionKeys(sessionKey, 'sid-b');
  const otherKey = deriveSessionKeys(randomBytes(32), 'sid-a');
  for (const name of ['peerToRelay', 'relayToPeer', 'attach'] as const) {
    t.false(otherSid[name].equals(keys[name]), `sid changes ${name}`);
    t.false(otherKey[name].equals(keys[name]), `session key changes ${name}`);
  }
});

// ---- attach-proof ----

test('attach proof verifies only for the exact challenge, session, purpose, server, dial and key', (t) => {
  const key = randomBytes(32);
  const challenge = randomBytes(32);
  const claims: AttachClaim[] = [
    { sid: 's1', purpose: 'stream', server: 'web' },
    { sid: 's1', purpose: 'pool' },
    { sid: 's1', purpose: 'dial', dial: 'd1' },
  ];
  for (const claim of claims) {
    const mac = attachMac(key, challenge, claim);
    t.is(mac.length, 32);
    t.true(verifyAttachMac(key, challenge, claim, mac));
    t.false(verifyAttachMac(key, randomBytes(32), claim, mac), 'other challenge');
    t.false(verifyAttachMac(randomBytes(32), challenge, claim, mac), 'other key');
    t.false(verifyAttachMac(key, challenge, { ...claim, sid: 's2' }, mac), 'other sid');
    t.false(verifyAttachMac(key, challenge, { ...claim, purpose: claim.purpose === 'pool' ? 'stream' : 'pool' }, mac), 'other purpose');
    t.false(verifyAttachMac(key, challenge, { ...claim, server: 'mail' }, mac), 'other server');
    t.false(verifyAttachMac(key, challenge, { ...claim, dial: 'd2' }, mac), 'other dial');
    t.false(verifyAttachMac(key, challenge, claim, mac.subarray(0, 31)), '31-byte mac');
    t.false(verifyAttachMac(key, challenge, claim, Buffer.alloc(0)), 'empty mac');
  }
});

test('attach proof fields are length-prefixed: shifting text between fields changes the mac', (t) => {
  const key = randomBytes(32);
  const challenge = randomBytes(32);
  const mac = attachMac(key, challenge, { sid: 's1', purpose: 'stream', server: 'web' });
  t.false(verifyAttachMac(key, challenge, { sid: 's1', purpose: 'stream', server: 'we', dial: 'b' }, mac));
});

// ---- hello-signature ----

const identity = generateKeyPairSync('ed25519');

test('hello signature verifies for the signed version, key and expiry only', (t) => {
  const eph = randomBytes(32);
  const exp = 1_700_000_060_000;
  const sig = signHelloKey(identity.privateKey, PROTOCOL_VERSION, eph, exp);
  t.is(sig.length, 64);
  t.true(verifyHelloKey(identity.publicKey, PROTOCOL_VERSION, eph, exp, sig));
  t.false(verifyHelloKey(identity.publicKey, PROTOCOL_VERSION, randomBytes(32), exp, sig), 'other eph');
  t.false(verifyHelloKey(identity.publicKey, PROTOCOL_VERSION, eph, exp + 1, sig), 'other exp');
  t.false(verifyHelloKey(identity.publicKey, PROTOCOL_VERSION + 1, eph, exp, sig), 'other version');
  t.false(verifyHelloKey(generateKeyPairSync('ed25519').publicKey, PROTOCOL_VERSION, eph, exp, sig), 'other identity');
});

test('a garbage hello signature is false, never a throw', (t) => {
  const eph = randomBytes(32);
  for (const sig of [randomBytes(64), Buffer.alloc(64), randomBytes(63), randomBytes(65), Buffer.alloc(0)]) {
    t.false(verifyHelloKey(identity.publicKey, PROTOCOL_VERSION, eph, 1_000, sig), `${sig.length}-byte signature`);
  }
});

// ---- ephemeral-key ----

test('the ephemeral key ring keeps one key for its lifetime, then rotates', (t) => {
  const ring = new EphemeralKeyRing(identity.privateKey, 60_000);
  const t0 = 1_700_000_000_000;
  const first = ring.current(t0);
  t.is(ring.current(t0 + 1), first);
  t.is(ring.current(t0 + 59_999), first);
  const second = ring.current(t0 + 60_000);
  t.not(second, first);
  t.false(second.raw.equals(first.raw));
  t.is(ring.current(t0 + 60_001), second);
  t.true(first.exp > t0 + 59_999, 'a key stays valid for logins greeted just before rotation');
  t.true(second.exp > t0 + 60_000);
});

test('an ephemeral key is signed by the identity and its raw form is its X25519 public key', (t) => {
  const ring = new EphemeralKeyRing(identity.privateKey);
  const key = ring.current(5_000);
  t.is(key.raw.length, 32);
  t.true(verifyHelloKey(identity.publicKey, PROTOCOL_VERSION, key.raw, key.exp, key.sig));
  t.false(verifyHelloKey(generateKeyPairSync('ed25519').publicKey, PROTOCOL_VERSION, key.raw, key.exp, key.sig));
  t.deepEqual(x25519RawPublic(createPublicKey(key.privateKey)), key.raw, 'raw is the public half of the private key');
  t.is(key.privateKey.asymmetricKeyType, 'x25519');
  t.is(key.privateKey.type, 'private');
});

test('the public-leg key is derived once per session, with its other keys: the attach key\'s public-leg key', (t) => {
  const keys = deriveSessionKeys(randomBytes(32), 'sid-1');
  t.deepEqual(keys.publicLeg, publicLegKey(keys.attach));
  t.notDeepEqual(keys.publicLeg, keys.attach);
  t.notDeepEqual(deriveSessionKeys(randomBytes(32), 'sid-1').publicLeg, keys.publicLeg);
});
