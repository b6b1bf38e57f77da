/**
 * The receive path opens a transport message in the pieces the socket delivered it in (no join): the
 * decoder hands out views, the cipher state decrypts them piece by piece, the frame reader takes a
 * message piece by piece and still knows where the message ends (a rekey must be its last frame).
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { E2eFrameDecoder } from '../../shared/crypto/e2e-frame-decoder.js';
import { e2eFrame } from '../../shared/crypto/e2e-frames.js';
import { CipherState, TAG_LENGTH } from '../../shared/crypto/noise/cipher-state.js';
import { BurrowError } from '../../shared/errors.js';
import { FrameReader } from '../../shared/tunnel/tunnel-frame-reader.js';
import { FRAME, frameHeader } from '../../shared/tunnel/tunnel-frames.js';

const EMPTY = Buffer.alloc(0);

function pair(cipher: 'AESGCM' | 'ChaChaPoly' = 'AESGCM'): { send: CipherState; recv: CipherState } {
  const key = randomBytes(32);
  return { send: new CipherState(cipher, key), recv: new CipherState(cipher, key) };
}

function sealed(send: CipherState, plaintext: Buffer): Buffer {
  return Buffer.concat(send.encryptPieces(EMPTY, [plaintext]));
}

for (const cipher of ['AESGCM', 'ChaChaPoly'] as const) {
  test(`${cipher}: a message cut anywhere, the tag too, opens to its plaintext without joining`, (t) => {
    const plaintext = randomBytes(300);
    const { send, recv } = pair(cipher);
    for (const cut of [1, 100, 299, 300, 301, 300 + TAG_LENGTH - 1]) {
      const message = sealed(send, plaintext);
      const pieces = recv.decryptPieces(EMPTY, [message.subarray(0, cut), message.subarray(cut)]);
      t.truthy(pieces, `cut at ${cut}`);
      t.deepEqual(Buffer.concat(pieces ?? []), plaintext, `cut at ${cut}`);
      t.true((pieces ?? []).length <= 2, 'one plaintext piece per ciphertext piece of the body');
    }
  });
}

test('a piece changed in transit fails as a whole and the counter stays, so the untouched message still opens', (t) => {
  const { send, recv } = pair();
  const message = sealed(send, randomBytes(100));
  const bad = Buffer.from(message);
  bad[60] = (bad[60] as number) ^ 1;
  t.is(recv.decryptPieces(EMPTY, [bad.subarray(0, 50), bad.subarray(50)]), null);
  t.is(recv.nonce, 0);
  t.truthy(recv.decryptPieces(EMPTY, [message.subarray(0, 50), message.subarray(50)]));
  t.is(recv.nonce, 1);
  t.is(recv.decryptPieces(EMPTY, [message.subarray(0, TAG_LENGTH - 1)]), null, 'shorter than a tag');
});

test('an empty message opens to no piece at all (the end of a transport)', (t) => {
  const { send, recv } = pair();
  t.deepEqual(recv.decryptPieces(EMPTY, [sealed(send, EMPTY)]), []);
});

test('decoder: a message across two chunks comes out as two views of them, not a copy', (t) => {
  const message = randomBytes(1000);
  const framed = e2eFrame(message);
  const first = framed.subarray(0, 600);
  const second = framed.subarray(600);
  const decoder = new E2eFrameDecoder();
  decoder.push(first);
  t.is(decoder.nextPieces(), null);
  decoder.push(second);
  const pieces = decoder.nextPieces();
  t.is(pieces?.length, 2);
  t.is(pieces?.[0]?.buffer, first.buffer, 'the first piece is a view of the first chunk');
  t.deepEqual(Buffer.concat(pieces ?? []), message);
  t.true(decoder.atBoundary);
});

test('frame reader: a rekey that ends a piece but not its message is malformed; one that ends the message is a rekey', (t) => {
  let rekeys = 0;
  const reader = (): FrameReader => new FrameReader({ control: () => undefined, data: () => undefined, rekey: () => void rekeys++ });
  const rekey = frameHeader(FRAME.rekey, 0, 0);
  const err = t.throws(() => reader().push(rekey, false));
  t.true(err instanceof BurrowError && err.code === 'ERR_MALFORMED_FRAME');
  t.is(rekeys, 0);
  reader().push(rekey, true);
  t.is(rekeys, 1);
});
