import { randomBytes } from 'node:crypto';
import test from 'ava';
import { BurrowError } from '../../shared/errors.js';
import { E2eFrameDecoder } from '../../shared/crypto/e2e-frame-decoder.js';
import {
  decodeVerdict,
  E2E_MAX_PLAINTEXT,
  e2eFrame,
  encodeVerdict,
  HANDSHAKE_LIMITS,
  slicePlaintexts,
} from '../../shared/crypto/e2e-frames.js';

function drain(decoder: E2eFrameDecoder): Buffer[] {
  const out: Buffer[] = [];
  for (let message = decoder.next(); message !== null; message = decoder.next()) out.push(message);
  return out;
}

const messages = [randomBytes(16), randomBytes(65535), randomBytes(300), randomBytes(16)];
const stream = Buffer.concat(messages.map(e2eFrame));

test('decoder: whole stream in one chunk', (t) => {
  const decoder = new E2eFrameDecoder();
  decoder.push(stream);
  t.deepEqual(drain(decoder), messages);
  t.true(decoder.atBoundary);
});

test('decoder: 1-byte chunks', (t) => {
  const decoder = new E2eFrameDecoder();
  const out: Buffer[] = [];
  for (let i = 0; i < stream.length; i += 1) {
    decoder.push(stream.subarray(i, i + 1));
    out.push(...drain(decoder));
  }
  t.deepEqual(out, messages);
  t.is(decoder.bufferedBytes, 0);
});

test('decoder: uneven chunks across headers and bodies', (t) => {
  const decoder = new E2eFrameDecoder();
  const out: Buffer[] = [];
  for (let i = 0, size = 1; i < stream.length; i += size, size = (size * 31) % 5000 + 1) {
    decoder.push(stream.subarray(i, i + size));
    out.push(...drain(decoder));
  }
  t.deepEqual(out, messages);
});

test('decoder: a partial message waits, then completes', (t) => {
  const decoder = new E2eFrameDecoder();
  const frame = e2eFrame(randomBytes(100));
  decoder.push(frame.subarray(0, 50));
  t.is(decoder.next(), null);
  t.false(decoder.atBoundary);
  decoder.push(frame.subarray(50));
  t.deepEqual(decoder.next(), frame.subarray(2));
});

test('decoder: a length over the limit is refused from the header alone', (t) => {
  const decoder = new E2eFrameDecoder(HANDSHAKE_LIMITS);
  decoder.push(Buffer.from([0x01, 0x01])); // 257 bytes announced, none sent
  const err = t.throws(() => decoder.next(), { instanceOf: BurrowError });
  t.is(err?.code, 'ERR_FRAME_TOO_LARGE');
});

test('decoder: a length under the minimum (an empty message) is malformed', (t) => {
  const decoder = new E2eFrameDecoder();
  decoder.push(Buffer.from([0, 0]));
  const err = t.throws(() => decoder.next(), { instanceOf: BurrowError });
  t.is(err?.code, 'ERR_MALFORMED_FRAME');
});

test('slicePlaintexts: frames are full except the last and never empty', (t) => {
  const big = randomBytes(3 * E2E_MAX_PLAINTEXT + 5);
  const small = [randomBytes(10), randomBytes(0), randomBytes(20)];
  const slices = slicePlaintexts([big, ...small]);
  t.deepEqual(
    slices.map((s) => s.length),
    [E2E_MAX_PLAINTEXT, E2E_MAX_PLAINTEXT, E2E_MAX_PLAINTEXT, 35],
  );
  t.deepEqual(Buffer.concat(slices), Buffer.concat([big, ...small]));
  t.is(slices[0]?.buffer, big.buffer, 'a large chunk is sliced, not copied');
  t.deepEqual(slicePlaintexts([Buffer.alloc(0)]), []);
});

test('verdict: ok, known refusal, unknown refusal, garbage', (t) => {
  t.deepEqual(decodeVerdict(encodeVerdict()), { ok: true });
  t.deepEqual(decodeVerdict(encodeVerdict('ERR_SERVER_UNREACHABLE')), { ok: false, code: 'ERR_SERVER_UNREACHABLE' });
  t.deepEqual(decodeVerdict(Buffer.from('\x01ERR_NOT_A_CODE', 'latin1')), { ok: false, code: 'ERR_E2E_HANDSHAKE_FAILED' });
  t.is(decodeVerdict(Buffer.alloc(0)), undefined);
  t.is(decodeVerdict(Buffer.from([0, 0])), undefined);
  t.is(decodeVerdict(Buffer.from([1])), undefined);
  t.is(decodeVerdict(Buffer.from([2, 65])), undefined);
});
