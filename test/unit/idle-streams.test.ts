/**
 * What a stopping relay cuts as idle (relay/io/idle-streams.ts): streams whose byte counts have not moved
 * for the idle time, never one that says it is busy (a public HTTP connection awaiting an answer).
 */
import test from 'ava';
import { IdleStreams } from '../../relay/io/idle-streams.js';
import { LiveStreams } from '../../relay/io/live-streams.js';

test('a stream silent for the idle time is idle; one that moved is not; one awaiting an answer never is', (t) => {
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
  t.deepEqual(idle.sweep(3000, 1000), [1, 2, 3], 'once its answer is over, a silent stream is idle like any other');
});
