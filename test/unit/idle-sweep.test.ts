/**
 * What a stopping relay, skeleton or forwarder cuts as idle (shared/net/idle-sweep.ts): streams silent
 * for the idle time; never one that waits (its last bytes went to the server with nothing back since,
 * or it says bytes wait on a slow reader): the drain's deadline cuts those. A hand-driven clock.
 */
import test from 'ava';
import { IdleSweep, type StreamCounts } from '../../shared/net/idle-sweep.js';

test('a request awaiting its answer is never idle; once answered and silent, it is after the idle time', (t) => {
  const sweep = new IdleSweep<string>();
  const s: StreamCounts = { toServer: 100, fromServer: 500 }; // an earlier exchange, answered
  const at = (now: number): string[] => sweep.sweep([['s', { ...s }]], now, 1000);
  t.deepEqual(at(0), []);
  s.toServer += 50; // a new request goes up
  t.deepEqual(at(200), []);
  t.deepEqual(at(3_600_000), [], 'silent for an hour, but the server owes an answer');
  s.fromServer += 10; // the answer starts
  t.deepEqual(at(3_600_100), []);
  t.deepEqual(at(3_600_800), [], 'silent for 0.7 s only');
  t.deepEqual(at(3_601_100), ['s'], 'answered and silent for a second: idle');
});

test('first seen: bytes sent and none back is a first answer awaited; any answer seen makes it an ordinary silent stream', (t) => {
  const sweep = new IdleSweep<string>();
  const streams: [string, StreamCounts][] = [['asked', { toServer: 80, fromServer: 0 }], ['talked', { toServer: 80, fromServer: 20 }], ['fresh', { toServer: 0, fromServer: 0 }]];
  t.deepEqual(sweep.sweep(streams, 0, 1000), []);
  t.deepEqual(sweep.sweep(streams, 1000, 1000), ['talked', 'fresh']);
  t.deepEqual(sweep.sweep(streams, 3_600_000, 1000), ['talked', 'fresh']);
});

test('a stream that says it waits (bytes held for a slow reader) or is busy is never idle; streams gone are forgotten', (t) => {
  const sweep = new IdleSweep<string>();
  const download: StreamCounts = { toServer: 100, fromServer: 9_000_000, waiting: true };
  const answer: StreamCounts = { toServer: 100, fromServer: 9_000_000, busy: true };
  t.deepEqual(sweep.sweep([['download', download], ['answer', answer]], 0, 1000), []);
  t.deepEqual(sweep.sweep([['download', download], ['answer', answer]], 3_600_000, 1000), []);
  download.waiting = false;
  answer.busy = false;
  // No longer waiting, silent for an hour: idle at once; the answer was busy at the last sweep, its clock starts there.
  t.deepEqual(sweep.sweep([['download', download], ['answer', answer]], 3_600_500, 1000), ['download']);
  t.deepEqual(sweep.sweep([['download', download], ['answer', answer]], 3_601_000, 1000), ['download', 'answer']);
  t.deepEqual(sweep.sweep([['download', { toServer: 0, fromServer: 0 }]], 3_602_000, 1000), [], 'a key seen again starts its own clock');
});
