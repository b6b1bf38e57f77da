/**
 * shared/udp/flow-table.ts with the clock advanced by hand: a flow lives while datagrams pass either
 * way and ends after the idle time of silence; the cap refuses one flow more (and counts it) without
 * touching the flows already there; counts survive a flow's end in the totals.
 */
import test from 'ava';
import { FlowTable } from '../../shared/udp/flow-table.js';

function admitted<T>(table: FlowTable<T>, key: string, now: number, value: T) {
  const a = table.admit(key, now, () => value);
  if ('refused' in a) throw new Error(`${key} refused`);
  return a;
}

test('a silent flow expires at exactly idleMs, not a millisecond before', (t) => {
  const table = new FlowTable<string>({ idleMs: 120_000, maxFlows: 10 });
  admitted(table, '127.0.0.1:5000', 1000, 'a');
  t.deepEqual(table.expire(1000 + 119_999), []);
  t.deepEqual(table.expire(121_000).map((f) => f.value), ['a']);
  t.is(table.size, 0);
});

test('traffic either way keeps a flow alive; a drop does not', (t) => {
  const table = new FlowTable<string>({ idleMs: 100, maxFlows: 10 });
  const { flow: up } = admitted(table, 'up', 0, 'up');
  const { flow: down } = admitted(table, 'down', 0, 'down');
  const { flow: flood } = admitted(table, 'flood', 0, 'flood');
  table.inbound(up, 10, 90);
  table.outbound(down, 10, 90);
  table.drop(flood);
  t.deepEqual(table.expire(100).map((f) => f.key), ['flood']);
  t.deepEqual(table.expire(189).map((f) => f.key), []);
  t.deepEqual(table.expire(190).map((f) => f.key).sort(), ['down', 'up']);
});

test('the same source finds its flow again; make runs only for a new one', (t) => {
  const table = new FlowTable<number>({ idleMs: 100, maxFlows: 10 });
  let made = 0;
  const first = table.admit('k', 0, () => ++made);
  const again = table.admit('k', 5, () => ++made);
  t.true('flow' in first && first.created);
  t.true('flow' in again && !again.created && again.flow === (first as { flow: unknown }).flow);
  t.is(made, 1);
});

test('the cap refuses one flow more without making it, counts the refusal, and frees a place when a flow ends', (t) => {
  const table = new FlowTable<string>({ idleMs: 1000, maxFlows: 2 });
  admitted(table, 'a', 0, 'a');
  admitted(table, 'b', 0, 'b');
  let made = false;
  const refused = table.admit('c', 0, () => {
    made = true;
    return 'c';
  });
  t.deepEqual(refused, { refused: 'cap', maxFlows: 2 });
  t.false(made);
  // Known flows still pass at the cap.
  t.true('flow' in table.admit('a', 1, () => 'x'));
  t.true(table.remove('a'));
  t.false(table.remove('a'));
  t.true('flow' in table.admit('c', 2, () => 'c'));
  const totals = table.totals();
  t.is(totals.active, 2);
  t.is(totals.total, 3);
  t.is(totals.refused, 1);
});

test('totals add the counts of live flows and of flows gone', (t) => {
  const table = new FlowTable<string>({ idleMs: 50, maxFlows: 4 });
  const { flow: a } = admitted(table, 'a', 0, 'a');
  const { flow: b } = admitted(table, 'b', 0, 'b');
  table.inbound(a, 100, 1);
  table.outbound(a, 200, 1);
  table.inbound(b, 7, 30);
  table.drop(b);
  table.drop(b);
  t.deepEqual(table.expire(51).map((f) => f.key), ['a']);
  const totals = table.totals();
  t.like(totals, { datagramsIn: 2, datagramsOut: 1, bytesIn: 107, bytesOut: 200, dropped: 2, active: 1, total: 2 });
});

test('a table without a cap or an idle time is a configuration bug', (t) => {
  t.throws(() => new FlowTable({ idleMs: 0, maxFlows: 1 }), { instanceOf: RangeError });
  t.throws(() => new FlowTable({ idleMs: 1, maxFlows: 0 }), { instanceOf: RangeError });
});

test('aliveBy inbound: the server\'s answers alone do not keep a flow alive (a forged source cannot be streamed to for ever)', (t) => {
  const both = new FlowTable<string>({ idleMs: 100, maxFlows: 4 });
  const inbound = new FlowTable<string>({ idleMs: 100, maxFlows: 4, aliveBy: 'inbound' });
  for (const table of [both, inbound]) {
    const { flow } = admitted(table, 'src', 0, 'src');
    table.inbound(flow, 40, 0);
    // The server keeps sending, the source never again.
    for (let now = 50; now <= 250; now += 50) table.outbound(flow, 1000, now);
  }
  t.deepEqual(both.expire(260).map((f) => f.key), [], 'alive while datagrams pass either way');
  t.deepEqual(inbound.expire(100).map((f) => f.key), ['src'], 'over idleMs after the source\'s last datagram');
});

test('stalest: a one-shot source once silent oneShotMs, before anyone else; else the stalest once silent quietMs; nothing removed', (t) => {
  const table = new FlowTable<string>({ idleMs: 120_000, maxFlows: 3, aliveBy: 'inbound' });
  const limits = { oneShotMs: 1000, quietMs: 10_000 };
  const flow = (key: string, at: number, datagrams: number) => {
    const admitted = table.admit(key, at, () => key);
    if (!('flow' in admitted)) throw new Error('refused');
    for (let i = 0; i < datagrams; i++) table.inbound(admitted.flow, 1, at);
    return admitted.flow;
  };
  const talker = flow('talker', 0, 5);
  flow('once', 500, 1);
  t.is(table.stalest(1000, limits), undefined, 'the one-shot source is silent 0.5 s only; the talker 1 s');
  t.is(table.stalest(1500, limits)?.key, 'once', 'a one-shot source silent a second goes first, though the talker is staler');
  t.is(table.stalest(9_000, limits)?.key, 'once');
  table.remove('once');
  t.is(table.stalest(9_000, limits), undefined, 'a talker silent 9 s keeps its flow');
  t.is(table.stalest(10_000, limits)?.key, 'talker', 'silent 10 s');
  table.outbound(talker, 1, 10_000); // an answer does not make a public flow fresh
  t.is(table.stalest(10_000, limits)?.key, 'talker');
  t.is(table.size, 1);
  t.is(new FlowTable<string>({ idleMs: 1000, maxFlows: 1 }).stalest(0, { oneShotMs: 0, quietMs: 0 }), undefined, 'empty');
});
