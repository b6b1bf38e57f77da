/**
 * The tunnel multiplexer's sans-IO pieces in memory, no sockets: a channel's flow control (what may be
 * sent, what the peer may send, when and how much to grant, the window growing only for a reader that
 * keeps up) and the channel table (ids, the responder's checks of opens, frames for unknown ids).
 */
import test from 'ava';
import { ChannelCredit, GrowthBudget, PUBLIC_TUNNEL_WINDOWS } from '../../shared/tunnel/channel-credit.js';
import { ChannelTable } from '../../shared/tunnel/channel-table.js';
import { CHANNEL_WINDOW, MAX_CHANNEL_WINDOW } from '../../shared/tunnel/tunnel-frames.js';

const QUARTER = CHANNEL_WINDOW / 4;

test('credit: we send up to the window, then only what the peer grants; an overflowing grant is refused', (t) => {
  const c = new ChannelCredit();
  t.is(c.sendable, CHANNEL_WINDOW);
  c.spend(CHANNEL_WINDOW);
  t.is(c.sendable, 0);
  t.true(c.granted(1000));
  t.is(c.sendable, 1000);
  t.false(c.granted(0xffff_ffff), 'past 2^32-1 bytes of credit');
});

test('credit: the peer may send up to what we granted, no byte more', (t) => {
  const c = new ChannelCredit();
  t.true(c.received(CHANNEL_WINDOW - 1));
  t.false(c.received(2));
  t.true(c.received(1));
  t.false(c.received(1));
});

test('credit: grants come in quarter windows once the local socket took the bytes; a slow reader never grows its window', (t) => {
  const c = new ChannelCredit();
  c.received(CHANNEL_WINDOW);
  t.is(c.delivered(QUARTER - 1, false), 0, 'less than a quarter: nothing yet');
  t.is(c.delivered(1, false), QUARTER, 'a quarter taken: that much granted back');
  for (let i = 0; i < 20; i++) t.is(c.delivered(QUARTER, false), QUARTER);
  t.is(c.window, CHANNEL_WINDOW);
});

test('credit: a reader that keeps up doubles its window per grant, up to MAX_CHANNEL_WINDOW', (t) => {
  const c = new ChannelCredit();
  const windows: number[] = [];
  for (let i = 0; i < 6; i++) {
    const grant = c.delivered(c.window / 4, true);
    t.true(grant > 0);
    t.true(c.received(grant), 'the peer may use all of the grant');
    windows.push(c.window);
  }
  t.deepEqual(windows, [2, 4, 4, 4, 4, 4].map((m) => m * CHANNEL_WINDOW));
  t.is(c.window, MAX_CHANNEL_WINDOW);
});

test('table: the initiator hands out ids from 1 up; a removed id is not reused', (t) => {
  const table = new ChannelTable<{ id: number }>();
  const a = table.openNext((id) => ({ id }));
  const b = table.openNext((id) => ({ id }));
  t.deepEqual([a.id, b.id], [1, 2]);
  t.true(table.remove(1, a));
  t.false(table.remove(1, a), 'only once');
  t.is(table.openNext((id) => ({ id })).id, 3);
  t.is(table.size, 2);
});

test('table: the responder admits only ids above every id seen, refuses past its cap, and tells gone ids from never-opened ones', (t) => {
  const table = new ChannelTable<string>(2);
  t.is(table.admit(1), 'ok');
  table.add(1, 'one');
  t.is(table.admit(1), 'protocol-error', 'an id again');
  t.is(table.admit(5), 'ok', 'ids may skip');
  table.add(5, 'five');
  t.is(table.admit(3), 'protocol-error', 'an id below the highest seen');
  t.is(table.admit(6), 'full');
  t.true(table.remove(1, 'one'));
  t.is(table.unknown(1), 'ignore', 'a channel already gone: a late frame is harmless');
  t.is(table.unknown(6), 'ignore', 'refused for the cap: also gone');
  t.is(table.unknown(7), 'protocol-error', 'never opened');
  t.deepEqual(table.drain(), ['five']);
  t.is(table.size, 0);
});

test('credit: a public tunnel\'s channels start at 64 KiB and grow to 4 MiB, only with what a shared budget has left, given back at the end', (t) => {
  const budget = new GrowthBudget(1024 * 1024);
  const windows = { ...PUBLIC_TUNNEL_WINDOWS, budget };
  const a = new ChannelCredit(windows);
  t.is(a.sendable, 64 * 1024);
  t.false(a.received(64 * 1024 + 1), 'a peer may not send past the smaller window');
  for (let i = 0; i < 10; i++) t.true(a.received(a.delivered(a.window / 4, true)));
  t.is(a.window, 64 * 1024 + 1024 * 1024, 'grown by the whole budget, no further');
  t.is(budget.left, 0);
  const b = new ChannelCredit(windows);
  b.delivered(b.window / 4, true);
  t.is(b.window, 64 * 1024, 'nothing left to grow with');
  a.release();
  t.is(budget.left, 1024 * 1024);
  const c = new ChannelCredit(PUBLIC_TUNNEL_WINDOWS);
  for (let i = 0; i < 10; i++) c.delivered(c.window / 4, true);
  t.is(c.window, 4 * 1024 * 1024, 'without a budget, up to the maximum');
});

test('budget: a source\'s share draws on the relay\'s budget too, and gives back to both', (t) => {
  const relay = new GrowthBudget(10);
  const a = new GrowthBudget(6, relay);
  const b = new GrowthBudget(6, relay);
  t.is(a.take(8), 6, 'no more than the share');
  t.is(b.take(8), 4, 'no more than the relay has left');
  t.is(relay.left, 0);
  a.give(6);
  t.is(relay.left, 6);
  t.is(a.left, 6, 'the share is whole again');
  t.is(b.take(2), 2);
  t.is(relay.left, 4);
});
