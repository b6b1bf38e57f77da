/** client/status-line.ts: drawn in place on a terminal, off on a pipe or with --quiet, stops cleanly. */
import test from 'ava';
import { formatStatus, startStatusLine } from '../../client/status-line.js';
import type { ForwarderStats } from '../../client/io/forwarder.js';

function fakeOut(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, out: { isTTY, write: (chunk: string | Uint8Array) => (writes.push(String(chunk)), true) } };
}

function forwarder(stats: ForwarderStats) {
  return { stats: () => stats };
}

test('the line shows open streams and bytes each way', (t) => {
  t.is(formatStatus({ active: 2, total: 5, failed: 1, bytesClientToServer: 512, bytesServerToClient: 3 * 1024 * 1024 }), 'streams 2 open, 5 total, 1 failed | client→server 512 B server→client 3.0 MiB');
});

test('a udp forwarder shows flows, refusals and the datagrams dropped', (t) => {
  t.is(
    formatStatus({ active: 3, total: 9, failed: 1, refused: 2, dropped: 17, bytesClientToServer: 2048, bytesServerToClient: 100 }),
    'udp flows 3 open, 9 total, 1 failed, 2 refused | client→server 2.0 KiB server→client 100 B | 17 datagrams dropped',
  );
});

test('on a terminal it draws at once, redraws in place with fresh numbers, and ends its line on stop', (t) => {
  const { writes, out } = fakeOut(true);
  const stats: ForwarderStats = { active: 1, total: 1, failed: 0, bytesClientToServer: 10, bytesServerToClient: 20 };
  const line = startStatusLine(forwarder(stats), { out });
  t.true(line.active);
  t.deepEqual(writes, ['\r\x1b[2Kstreams 1 open, 1 total, 0 failed | client→server 10 B server→client 20 B']);
  stats.active = 0;
  stats.bytesServerToClient = 2048;
  line.draw();
  t.is(writes.at(-1), '\r\x1b[2Kstreams 0 open, 1 total, 0 failed | client→server 10 B server→client 2.0 KiB');
  line.stop();
  t.is(writes.at(-1), '\n');
  line.draw();
  line.stop();
  t.is(writes.length, 3, 'nothing after stop');
});

test('off when the output is not a terminal, and with --quiet', (t) => {
  const stats: ForwarderStats = { active: 0, total: 0, failed: 0, bytesClientToServer: 0, bytesServerToClient: 0 };
  for (const [isTTY, quiet] of [[false, false], [true, true], [false, true]] as const) {
    const { writes, out } = fakeOut(isTTY);
    const line = startStatusLine(forwarder(stats), { out, quiet });
    t.false(line.active);
    line.draw();
    line.stop();
    t.deepEqual(writes, [], `isTTY ${isTTY}, quiet ${quiet}`);
  }
});
