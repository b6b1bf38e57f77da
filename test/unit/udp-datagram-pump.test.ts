/**
 * shared/net/datagram-pump.ts over in-memory streams: congestion drops instead of queueing (the stream's
 * unsent bytes stay under the cap however hard a flow floods), records come out as datagrams, and a
 * malformed record or a cut stream closes the flow with its code.
 */
import test from 'ava';
import { Duplex } from 'node:stream';
import { DatagramFlow } from '../../shared/net/datagram-flow.js';
import { DatagramPump } from '../../shared/net/datagram-pump.js';
import { DatagramDecoder, encodeDatagram } from '../../shared/udp/datagram-codec.js';

/** A stream whose writes never drain (a peer that stopped reading), and whose reads the test pushes. */
function stalled(): Duplex & { written: Buffer[] } {
  const written: Buffer[] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer) {
      written.push(chunk); // the callback is never called: everything after the first write queues
    },
  });
  return Object.assign(stream, { written });
}

test('a flood against a stalled stream is dropped past the cap, never queued without bound', (t) => {
  const stream = stalled();
  const cap = 64 * 1024;
  const pump = new DatagramPump(stream, cap);
  let sent = 0;
  let dropped = 0;
  for (let i = 0; i < 10_000; i++) {
    if (pump.send(Buffer.alloc(1400, i))) sent++;
    else dropped++;
  }
  t.true(stream.writableLength <= cap, `queued ${stream.writableLength} bytes`);
  t.true(sent >= 40 && sent <= 50, `${sent} sent`);
  t.is(sent + dropped, 10_000);
  // The records that went out are whole datagrams.
  const out = new DatagramDecoder().push(Buffer.concat(stream.written));
  t.true(out.every((d) => d.length === 1400));
});

test('records read from the stream come out as datagrams, in order', (t) => {
  const stream = stalled();
  const pump = new DatagramPump(stream);
  const got: string[] = [];
  pump.on('datagram', (d) => got.push(d.toString()));
  const both = Buffer.concat([encodeDatagram(Buffer.from('one')), encodeDatagram(Buffer.from('two'))]);
  stream.push(both.subarray(0, 4));
  stream.push(both.subarray(4));
  return new Promise<void>((resolve) => setImmediate(() => {
    t.deepEqual(got, ['one', 'two']);
    resolve();
  }));
});

for (const [what, bytes, code] of [
  ['an unknown record kind', Buffer.from([5, 0, 0]), 'ERR_MALFORMED_FRAME'],
  ['a record over 65,507 bytes', Buffer.from([0, 0xff, 0xe4]), 'ERR_FRAME_TOO_LARGE'],
] as const) {
  test(`${what} closes the flow with ${code} and destroys its stream`, async (t) => {
    const stream = stalled();
    const pump = new DatagramPump(stream);
    const closed = new Promise((resolve) => pump.once('close', resolve));
    stream.push(bytes);
    t.is(await closed, code);
    t.true(stream.destroyed);
    t.false(pump.send(Buffer.from('late')), 'nothing is sent on a closed flow');
  });
}

test('a stream that ends inside a record closes the flow with ERR_STREAM_TRUNCATED', async (t) => {
  const stream = stalled();
  const pump = new DatagramPump(stream);
  const closed = new Promise((resolve) => pump.once('close', resolve));
  stream.push(encodeDatagram(Buffer.alloc(100)).subarray(0, 50));
  stream.push(null);
  t.is(await closed, 'ERR_STREAM_TRUNCATED');
});

test('a flow holds datagrams while its stream opens, within the queue budget, and hands them over in order', (t) => {
  const flow = new DatagramFlow({ address: '127.0.0.1', family: 'IPv4', port: 5000, size: 0 });
  const accepted: number[] = [];
  for (let i = 0; i < 10; i++) if (flow.send(Buffer.alloc(60_000, i))) accepted.push(i);
  t.deepEqual(accepted, [0, 1, 2, 3], 'four of the largest kind fit the budget; the rest are dropped');
  const stream = stalled();
  t.is(flow.opened(new DatagramPump(stream)), 0);
  const out = new DatagramDecoder().push(Buffer.concat(stream.written));
  t.deepEqual(out.map((d) => d[0]), [0]);
  t.true(stream.writableLength > 0, 'the rest wait in the stream queue, under its cap');
  t.false(flow.send(Buffer.alloc(30_000)), 'over the open stream queue\'s cap: dropped');
  t.true(flow.send(Buffer.from('small')), 'one that still fits under the cap goes');
  flow.end();
  t.false(flow.send(Buffer.from('late')));
});
