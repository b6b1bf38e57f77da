/**
 * What a stopping relay cuts as idle (relay/io/idle-streams.ts): streams whose byte counts have not moved
 * for the idle time, never one that says it is busy (a public HTTP connection awaiting an answer) or is
 * waiting (a slow reader, an answer owed): the drain's deadline cuts those.
 */
import test from 'ava';
import { IdleStreams } from '../../relay/io/idle-streams.js';
import { LiveStreams } from '../../relay/io/live-streams.js';

test('a stream silent for the idle time is idle; one that moved is not; a busy one or one owed an answer never is', (t) => {
  const live = new LiveStreams();
  const quiet = { aToB: 10, bToA: 10 };
  const moving = { aToB: 0, bToA: 0 };
  let answering = true;
  const common = { server: 's', user: 'u', start: new Date(0), sockets: [] };
  live.add({ id: 1, ...common, bytes: () => ({ ...quiet }) });
  live.add({ id: 2, ...common, bytes: () => ({ ...moving }) });
  live.add({ id: 3, ...common, bytes: () => ({ aToB: 5, bToA: 0 }), busy: () => answering });
  const idle = new IdleStreams(live);
  t.deepEqual(idle.sweep(0, 1000), []);
  moving.aToB += 100;
  t.deepEqual(idle.sweep(1500, 1000), [1], 'stream 1 silent for 1.5 s; 2 moved; 3 awaits its answer');
  answering = false;
  t.deepEqual(idle.sweep(2000, 1000), [1]);
  t.deepEqual(idle.sweep(3000, 1000), [1], 'streams 2 and 3 last sent bytes to the server and got none back: an answer is owed, they run on');
  t.deepEqual(idle.sweep(3_600_000, 1000), [1], 'an answer owed is never idle: the drain\'s deadline cuts it');
  moving.bToA += 10; // the answer comes
  t.deepEqual(idle.sweep(3_600_100, 1000), [1]);
  t.deepEqual(idle.sweep(3_601_100, 1000), [1, 2], 'answered and silent for a second: idle');
});

test('a stream whose bytes wait on a slow reader is never idle; one the server answered last is', (t) => {
  const live = new LiveStreams();
  const common = { server: 's', user: 'u', start: new Date(0), sockets: [] };
  live.add({ id: 1, ...common, bytes: () => ({ aToB: 10, bToA: 9_000_000 }), waiting: () => true });
  live.add({ id: 2, ...common, bytes: () => ({ aToB: 10, bToA: 9_000_000 }) });
  const idle = new IdleStreams(live);
  t.deepEqual(idle.sweep(0, 1000), []);
  t.deepEqual(idle.sweep(5000, 1000), [2]);
  t.deepEqual(idle.sweep(3_600_000, 1000), [2], 'bytes waiting on a reader are never idle: the deadline cuts them');
});
