/**
 * shared/protocol/codec.ts: 4-byte big-endian length + msgpack body, and the FrameDecoder that splits a
 * byte stream into bodies however the stream was chunked, refusing oversize frames from the header alone.
 */
import test from 'ava';
import fc from 'fast-check';
import { decodeBody, encodeBody, encodeFrame, frame, FrameDecoder } from '../../shared/protocol/codec.js';
import { throwsCode } from '../helpers/unit-errors.js';

const MESSAGES = [
  { t: 'login', jwe: 'a.b.c.d.e' },
  { t: 'joined' },
  { t: 'hello', v: 1, port: 'client', challenge: Buffer.alloc(32, 7), exp: 1_700_000_000_000 },
  { t: 'advertise', id: 3, servers: [{ id: 'web', description: 'x'.repeat(300), protocol: 'http' }] },
];

/** Bodies of assorted sizes, including an empty one and one whose length needs more than two header bytes. */
const SMALL_BODIES = [Buffer.alloc(0), Buffer.from([1]), Buffer.alloc(300, 0xab), ...MESSAGES.map((m) => encodeBody(m))];
const BODIES = [...SMALL_BODIES, Buffer.alloc(70_000, 0x5a), Buffer.from([2])];

function concatFrames(bodies: Buffer[]): Buffer {
  return Buffer.concat(bodies.map((b) => frame(b)));
}

function header(length: number): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(length, 0);
  return h;
}

test('encodeFrame writes a big-endian length and decodeBody restores the message', (t) => {
  for (const message of MESSAGES) {
    const bytes = encodeFrame(message);
    t.is(bytes.readUInt32BE(0), bytes.length - 4);
    t.deepEqual(decodeBody(bytes.subarray(4)), message);
  }
});

test('decodeBody keeps binary fields as Buffers', (t) => {
  const decoded = decodeBody(encodeBody({ mac: Buffer.from([1, 2, 3]) })) as { mac: unknown };
  t.true(Buffer.isBuffer(decoded.mac));
  t.deepEqual(decoded.mac, Buffer.from([1, 2, 3]));
});

test('FrameDecoder fed one byte at a time yields every body exactly once, at its last byte', (t) => {
  const decoder = new FrameDecoder(100_000);
  const stream = concatFrames(SMALL_BODIES);
  const got: Buffer[] = [];
  let ends = 0;
  for (let i = 0; i < stream.length; i++) {
    const out = decoder.push(stream.subarray(i, i + 1));
    got.push(...out);
    if (out.length > 0) ends++;
  }
  t.deepEqual(got, SMALL_BODIES);
  t.is(ends, SMALL_BODIES.length);
  t.is(decoder.buffered, 0);
});

test('FrameDecoder handles random split points', (t) => {
  let seed = 12345;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  for (let round = 0; round < 40; round++) {
    // Small bodies in tiny pieces, the large one in pieces of up to 5000 bytes.
    const bodies = round % 2 ? SMALL_BODIES : BODIES;
    const stream = concatFrames(bodies);
    const decoder = new FrameDecoder(100_000);
    const got: Buffer[] = [];
    for (let at = 0; at < stream.length;) {
      const size = 1 + rand(round % 2 ? 20 : 5000);
      got.push(...decoder.push(stream.subarray(at, at + size)));
      at += size;
    }
    t.deepEqual(got, bodies, `round ${round}`);
  }
});

test('several frames in one chunk all come out of one push', (t) => {
  const decoder = new FrameDecoder(100_000);
  t.deepEqual(decoder.push(concatFrames(BODIES)), BODIES);
});

test('a partial frame stays buffered until its last byte', (t) => {
  const decoder = new FrameDecoder(1000);
  const bytes = frame(Buffer.from('hello'));
  t.deepEqual(decoder.push(bytes.subarray(0, 6)), []);
  t.is(decoder.buffered, 6);
  t.deepEqual(decoder.push(bytes.subarray(6)), [Buffer.from('hello')]);
});

test('append + next take one frame at a time; takeRest returns exactly the bytes after the last frame taken', (t) => {
  const decoder = new FrameDecoder(1000);
  const a = Buffer.from('first');
  const b = Buffer.from('second');
  const rest = Buffer.concat([frame(Buffer.from('third, never taken')), Buffer.from([9, 9, 9])]);
  const stream = Buffer.concat([frame(a), frame(b), rest]);
  // Chunk boundaries that cut through the second frame's header and the trailing frame.
  decoder.append(stream.subarray(0, 11));
  decoder.append(stream.subarray(11, 30));
  decoder.append(stream.subarray(30));
  t.deepEqual(decoder.next(), a);
  t.deepEqual(decoder.next(), b);
  t.deepEqual(decoder.takeRest(), rest);
  t.is(decoder.buffered, 0);
  t.is(decoder.next(), undefined);
  t.deepEqual(decoder.takeRest(), Buffer.alloc(0));
});

test('takeRest after every frame was taken is empty, and append alone decodes nothing', (t) => {
  const decoder = new FrameDecoder(1000);
  decoder.append(frame(Buffer.from('x')));
  t.is(decoder.buffered, 5);
  t.deepEqual(decoder.next(), Buffer.from('x'));
  t.is(decoder.next(), undefined);
  t.deepEqual(decoder.takeRest(), Buffer.alloc(0));
});

test('a declared length above the maximum throws ERR_FRAME_TOO_LARGE from the header alone', (t) => {
  const decoder = new FrameDecoder(8192);
  throwsCode(t, () => decoder.push(header(8193)), 'ERR_FRAME_TOO_LARGE');
  // Exactly the maximum is allowed and simply waits for its body.
  t.deepEqual(new FrameDecoder(8192).push(header(8192)), []);
});

test('an oversize header fed byte by byte throws at its fourth byte', (t) => {
  const decoder = new FrameDecoder(10);
  const h = header(0xffffffff);
  for (let i = 0; i < 3; i++) t.deepEqual(decoder.push(h.subarray(i, i + 1)), []);
  throwsCode(t, () => decoder.push(h.subarray(3, 4)), 'ERR_FRAME_TOO_LARGE');
});

test('an oversize frame behind a good one is refused when it is reached by next()', (t) => {
  const decoder = new FrameDecoder(10);
  decoder.append(Buffer.concat([frame(Buffer.from('ok')), header(11)]));
  t.deepEqual(decoder.next(), Buffer.from('ok'));
  throwsCode(t, () => decoder.next(), 'ERR_FRAME_TOO_LARGE');
});

test('the maxFrame setter raises and lowers the limit for frames not yet decoded', (t) => {
  const body = Buffer.alloc(50, 1);
  const raised = new FrameDecoder(10);
  raised.maxFrame = 100;
  t.deepEqual(raised.push(frame(body)), [body]);

  const lowered = new FrameDecoder(100);
  lowered.maxFrame = 10;
  throwsCode(t, () => lowered.push(frame(body)), 'ERR_FRAME_TOO_LARGE');
});

test('decodeBody throws ERR_MALFORMED_FRAME for garbage, truncated, trailing and empty bodies', (t) => {
  const good = encodeBody({ t: 'login', jwe: 'a.b.c.d.e' });
  const bad = [
    Buffer.from([0x92, 0x01]), // array of two holding one element
    Buffer.from([0xd9]), // str8 without its length
    good.subarray(0, good.length - 1),
    Buffer.concat([good, Buffer.from([0x01])]),
    Buffer.alloc(0),
  ];
  for (const body of bad) throwsCode(t, () => decodeBody(body), 'ERR_MALFORMED_FRAME', body.toString('hex'));
});

// Regression (was a bug in shared/protocol/codec.ts, FrameDecoder #peek): while the first buffered chunk is shorter than the
// 4-byte header, every push concatenates ALL buffered chunks just to read the header, so a frame that
// arrives in small pieces costs O(n^2) copying (8 KiB in 1-byte pieces: ~33 MB copied, ~0.4 s of CPU;
// 64 KiB: ~2 GB, ~30 s), a cheap way for any peer to stall the relay's event loop.
test('decoding a frame that arrives one byte at a time copies a linear number of bytes', (t) => {
  const stream = frame(Buffer.alloc(8192, 1));
  const decoder = new FrameDecoder(8192);
  const concat = Buffer.concat;
  let copied = 0;
  Buffer.concat = (list: readonly Uint8Array[], totalLength?: number) => {
    const out = concat(list, totalLength);
    copied += out.length;
    return out;
  };
  const got: Buffer[] = [];
  try {
    for (let i = 0; i < stream.length; i++) got.push(...decoder.push(stream.subarray(i, i + 1)));
  } finally {
    Buffer.concat = concat;
  }
  t.is(got.length, 1);
  t.true(copied < 8 * stream.length, `copied ${copied} bytes for a ${stream.length}-byte frame`);
});

test('property: framed byte arrays split at arbitrary points decode to the same bodies', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 12 }),
      fc.array(fc.nat(), { maxLength: 20 }),
      (arrays, cuts) => {
        const bodies = arrays.map((a) => Buffer.from(a));
        const stream = concatFrames(bodies);
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const decoder = new FrameDecoder(1000);
        const got: Buffer[] = [];
        let from = 0;
        for (const at of [...points, stream.length]) {
          got.push(...decoder.push(stream.subarray(from, at)));
          from = at;
        }
        return decoder.buffered === 0 && got.length === bodies.length && got.every((b, i) => b.equals(bodies[i]!));
      },
    ),
  );
  t.pass();
});
