import { readFileSync } from 'node:fs';
import test from 'ava';
import { BurrowError } from '../../shared/errors.js';
import type { NoiseCipher } from '../../shared/crypto/noise/cipher-state.js';
import { HandshakeState, type NoisePattern } from '../../shared/crypto/noise/handshake-state.js';

interface Vector {
  protocol_name: string;
  init_prologue: string;
  init_ephemeral: string;
  init_psks?: string[];
  resp_prologue: string;
  resp_ephemeral: string;
  resp_psks?: string[];
  handshake_hash: string;
  messages: { payload: string; ciphertext: string }[];
}

// Compiled tests run from dist/test/unit/; the fixture stays in the source tree.
const fixture = new URL('../../../test/fixtures/noise-nn-nnpsk0-25519-sha256.json', import.meta.url);
const vectors = (JSON.parse(readFileSync(fixture, 'utf8')) as { vectors: Vector[] }).vectors;

const hex = (value: string): Buffer => Buffer.from(value, 'hex');

function parseName(name: string): { pattern: NoisePattern; cipher: NoiseCipher } {
  const match = /^Noise_(NN|NNpsk0)_25519_(AESGCM|ChaChaPoly)_SHA256$/.exec(name);
  if (!match) throw new Error(`unexpected protocol ${name}`);
  return { pattern: match[1] as NoisePattern, cipher: match[2] as NoiseCipher };
}

function parties(vector: Vector, respPsk?: Buffer): { init: HandshakeState; resp: HandshakeState } {
  const { pattern, cipher } = parseName(vector.protocol_name);
  const initPsk = vector.init_psks?.[0];
  const respPskHex = vector.resp_psks?.[0];
  const init = new HandshakeState({
    pattern,
    cipher,
    initiator: true,
    prologue: hex(vector.init_prologue),
    ephemeralPrivate: hex(vector.init_ephemeral),
    ...(initPsk === undefined ? {} : { psk: hex(initPsk) }),
  });
  const resp = new HandshakeState({
    pattern,
    cipher,
    initiator: false,
    prologue: hex(vector.resp_prologue),
    ephemeralPrivate: hex(vector.resp_ephemeral),
    ...(respPsk ? { psk: respPsk } : respPskHex === undefined ? {} : { psk: hex(respPskHex) }),
  });
  return { init, resp };
}

function nnpsk0Vector(): Vector {
  const vector = vectors.find((v) => v.protocol_name === 'Noise_NNpsk0_25519_AESGCM_SHA256');
  if (!vector) throw new Error('NNpsk0 AESGCM vector missing');
  return vector;
}

test('the fixture holds the 4 NN/NNpsk0 x AESGCM/ChaChaPoly vectors', (t) => {
  t.is(vectors.length, 4);
  t.deepEqual(vectors.map((v) => v.protocol_name).sort(), [
    'Noise_NN_25519_AESGCM_SHA256',
    'Noise_NN_25519_ChaChaPoly_SHA256',
    'Noise_NNpsk0_25519_AESGCM_SHA256',
    'Noise_NNpsk0_25519_ChaChaPoly_SHA256',
  ]);
  for (const vector of vectors) t.true(vector.messages.length > 2, vector.protocol_name);
});

for (const vector of vectors) {
  test(`vector ${vector.protocol_name}`, (t) => {
    const { init, resp } = parties(vector);
    const [m1, m2, ...transport] = vector.messages;
    if (!m1 || !m2) throw new Error('vector needs 2 handshake messages');

    const wire1 = init.writeMessage(hex(m1.payload));
    t.is(wire1.toString('hex'), m1.ciphertext);
    t.is(resp.readMessage(wire1).toString('hex'), m1.payload);

    const wire2 = resp.writeMessage(hex(m2.payload));
    t.is(wire2.toString('hex'), m2.ciphertext);
    t.is(init.readMessage(wire2).toString('hex'), m2.payload);

    t.true(init.isComplete);
    t.true(resp.isComplete);
    t.is(init.handshakeHash.toString('hex'), vector.handshake_hash);
    t.is(resp.handshakeHash.toString('hex'), vector.handshake_hash);

    const i = init.split();
    const r = resp.split();
    const empty = Buffer.alloc(0);
    transport.forEach((message, index) => {
      const [sender, receiver] = index % 2 === 0 ? [i.send, r.recv] : [r.send, i.recv];
      const wire = sender.encryptWithAd(empty, hex(message.payload));
      t.is(wire.toString('hex'), message.ciphertext, `transport message ${index}`);
      t.is(receiver.decryptWithAd(empty, wire)?.toString('hex'), message.payload);
    });
  });
}

test('a wrong psk makes the responder fail reading message 1', (t) => {
  const vector = nnpsk0Vector();
  const { init, resp } = parties(vector, Buffer.alloc(32, 7));
  const wire1 = init.writeMessage(Buffer.alloc(0));
  const err = t.throws(() => resp.readMessage(wire1), { instanceOf: BurrowError });
  t.is(err?.code, 'ERR_E2E_HANDSHAKE_FAILED');
  t.throws(() => resp.writeMessage(Buffer.alloc(0)), { instanceOf: BurrowError });
});

for (const at of ['ephemeral', 'ciphertext', 'tag'] as const) {
  test(`a tampered ${at} byte fails message 1 and message 2`, (t) => {
    const flip = (wire: Buffer): Buffer => {
      const copy = Buffer.from(wire);
      const index = at === 'ephemeral' ? 3 : at === 'ciphertext' ? 33 : copy.length - 1;
      copy[index] = (copy[index] ?? 0) ^ 0x01;
      return copy;
    };
    const vector = nnpsk0Vector();
    const payload = Buffer.from('payload');

    const first = parties(vector);
    const bad1 = t.throws(() => first.resp.readMessage(flip(first.init.writeMessage(payload))), { instanceOf: BurrowError });
    t.is(bad1?.code, 'ERR_E2E_HANDSHAKE_FAILED');

    const second = parties(vector);
    second.resp.readMessage(second.init.writeMessage(payload));
    const wire2 = second.resp.writeMessage(payload);
    const bad2 = t.throws(() => second.init.readMessage(flip(wire2)), { instanceOf: BurrowError });
    t.is(bad2?.code, 'ERR_E2E_HANDSHAKE_FAILED');
  });
}

test('a tampered transport frame does not decrypt and the counter does not move', (t) => {
  const { init, resp } = parties(nnpsk0Vector());
  resp.readMessage(init.writeMessage(Buffer.alloc(0)));
  init.readMessage(resp.writeMessage(Buffer.alloc(0)));
  const i = init.split();
  const r = resp.split();
  const empty = Buffer.alloc(0);
  const wire = i.send.encryptWithAd(empty, Buffer.from('hello'));
  const tampered = Buffer.from(wire);
  tampered[0] = (tampered[0] ?? 0) ^ 0x80;
  t.is(r.recv.decryptWithAd(empty, tampered), null);
  t.is(r.recv.nonce, 0);
  t.is(r.recv.decryptWithAd(empty, wire)?.toString(), 'hello');
});
