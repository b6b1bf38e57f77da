/**
 * shared/udp/datagram-codec.ts: one record per datagram inside a flow's end-to-end stream. Whatever way
 * the stream cuts or glues the bytes, exactly the datagrams written come out, whole; a bad header ends
 * the flow with a code, and the decoder never holds more than one unfinished record.
 */
import test from 'ava';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { DATAGRAM_HEADER, DatagramDecoder, encodeDatagram, MAX_DATAGRAM } from '../../shared/udp/datagram-codec.js';
import { throwsCode } from '../helpers/unit-errors.js';

const SIZES = [1, 1472, 9000, MAX_DATAGRAM];

test('datagrams of 1, 1472, 9000 and 65507 bytes come out whole and in order, from one chunk', (t) => {
  const datagrams = SIZES.map((n) => randomBytes(n));
  const out = new DatagramDecoder().push(Buffer.concat(datagrams.map(encodeDatagram)));
  t.deepEqual(out.map((d) => d.length), SIZES);
  for (const [i, d] of datagrams.entries()) t.true(out[i]!.equals(d), `datagram ${i} intact`);
});

test('cut into 1-byte chunks, each datagram appears exactly when its last byte arrives', (t) => {
  const datagrams = [randomBytes(1), Buffer.alloc(0), randomBytes(1472)];
  const stream = Buffer.concat(datagrams.map(encodeDatagram));
  const decoder = new DatagramDecoder();
  const out: Buffer[] = [];
  const completedAt: number[] = [];
  for (let i = 0; i < stream.length; i++) {
    for (const d of decoder.push(stream.subarray(i, i + 1))) {
      out.push(d);
      completedAt.push(i + 1);
    }
  }
  t.deepEqual(out, datagrams);
  t.deepEqual(completedAt, [DATAGRAM_HEADER + 1, 2 * DATAGRAM_HEADER + 1, stream.length]);
  t.notThrows(() => decoder.end());
});

test('any split of the stream gives back the same datagrams (property)', (t) => {
  fc.assert(fc.property(
    fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 8 }),
    fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 20 }),
    (payloads, cuts) => {
      const stream = Buffer.concat(payloads.map(encodeDatagram));
      const decoder = new DatagramDecoder();
      const out: Buffer[] = [];
      let at = 0;
      for (let i = 0; at < stream.length; i++) {
        const n = cuts[i % cuts.length]!;
        out.push(...decoder.push(stream.subarray(at, at + n)));
        at += n;
        if (decoder.buffered > DATAGRAM_HEADER + MAX_DATAGRAM) return false;
      }
      decoder.end();
      return out.length === payloads.length && out.every((d, i) => d.equals(payloads[i]!));
    },
  ), { numRuns: 200 });
  t.pass();
});

test('a 65,508-byte datagram cannot be encoded', (t) => {
  throwsCode(t, () => encodeDatagram(Buffer.alloc(MAX_DATAGRAM + 1)), 'ERR_FRAME_TOO_LARGE');
});

test('a record declaring more than 65,507 bytes is refused from its header alone', (t) => {
  const decoder = new DatagramDecoder();
  const header = Buffer.from([0, 0, 0]);
  header.writeUInt16BE(MAX_DATAGRAM + 1, 1);
  throwsCode(t, () => decoder.push(header), 'ERR_FRAME_TOO_LARGE');
});

test('a good datagram before a malformed record is still delivered; the bad kind is ERR_MALFORMED_FRAME', (t) => {
  const decoder = new DatagramDecoder();
  const good = encodeDatagram(Buffer.from('ok'));
  t.deepEqual(decoder.push(good), [Buffer.from('ok')]);
  throwsCode(t, () => decoder.push(Buffer.from([7, 0, 1, 0x41])), 'ERR_MALFORMED_FRAME');
});

test('a stream that ends inside a record is ERR_STREAM_TRUNCATED, not a short datagram', (t) => {
  const decoder = new DatagramDecoder();
  const record = encodeDatagram(randomBytes(9000));
  t.deepEqual(decoder.push(record.subarray(0, 5000)), []);
  throwsCode(t, () => decoder.end(), 'ERR_STREAM_TRUNCATED');
});
