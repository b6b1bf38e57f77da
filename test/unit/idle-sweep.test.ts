/**
 * What a stopping skeleton or forwarder cuts as idle (shared/net/idle-sweep.ts, with awaitAnswers):
 * streams silent for the idle time, except one whose last bytes went to the server with nothing back
 * since, which awaits its answer. A hand-driven clock.
 */
import test from 'ava';
import { IdleSweep, type StreamCounts } from '../../shared/net/idle-sweep.js';

test('a request awaiting its answer is never idle; once answered and silent it is', (t) => {
  const sweep = new IdleSweep<string>({ awaitAnswers: true });
  const s: StreamCounts = { toServer: 100, fromServer: 500 }; // an earlier exchange, answered
  const at = (now: number): string[] => sweep.sweep([['s', { ...s }]], now, 1000);
  t.deepEqual(at(0), []);
  s.toServer += 50; // a new request goes up
  t.deepEqual(at(200), []);
  t.deepEqual(at(5000), [], 'silent for 4.8 s, but the server owes an answer');
  s.fromServer += 10; // the answer starts
  t.deepEqual(at(5200), []);
  t.deepEqual(at(6000), [], 'silent for 0.8 s only');
  t.deepEqual(at(6200), ['s'], 'answered and silent for a second: idle');
});

test('first seen: bytes sent and none back is a first answer awaited; any answer seen makes it an ordinary silent stream', (t) => {
  const sweep = new IdleSweep<string>({ awaitAnswers: true });
  const streams: [string, StreamCounts][] = [['asked', { toServer: 80, fromServer: 0 }], ['talked', { toServer: 80, fromServer: 20 }], ['fresh', { toServer: 0, fromServer: 0 }]];
  t.deepEqual(sweep.sweep(streams, 0, 1000), []);
  t.deepEqual(sweep.sweep(streams, 1000, 1000), ['talked', 'fresh']);
});

test('without awaitAnswers (the relay\'s rule) any silent stream is idle, a busy one never; streams gone are forgotten', (t) => {
  const sweep = new IdleSweep<number>();
  t.deepEqual(sweep.sweep([[1, { toServer: 5, fromServer: 0 }], [2, { toServer: 5, fromServer: 0, busy: true }]], 0, 1000), []);
  t.deepEqual(sweep.sweep([[1, { toServer: 5, fromServer: 0 }], [2, { toServer: 5, fromServer: 0, busy: true }]], 1000, 1000), [1]);
  // Stream 1 ended; a new stream 1 (ids are not reused, but a key may be) starts its own clock.
  t.deepEqual(sweep.sweep([[2, { toServer: 5, fromServer: 0 }]], 1500, 1000), []);
  t.deepEqual(sweep.sweep([[1, { toServer: 0, fromServer: 0 }], [2, { toServer: 5, fromServer: 0 }]], 2000, 1000), [2], 'a second after it was last busy');
  t.deepEqual(sweep.sweep([[1, { toServer: 0, fromServer: 0 }], [2, { toServer: 5, fromServer: 0 }]], 3000, 1000), [1, 2]);
});
