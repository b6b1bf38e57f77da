/**
 * What a stopping skeleton or forwarder cuts as idle (shared/net/idle-sweep.ts, with patienceMs):
 * streams silent for the idle time; one that waits (its last bytes went to the server with nothing back
 * since, or it says bytes wait on a slow reader) only after the longer patience. A hand-driven clock.
 */
import test from 'ava';
import { IdleSweep, type StreamCounts } from '../../shared/net/idle-sweep.js';

test('a request awaiting its answer is idle only after the patience; once answered and silent, after the idle time', (t) => {
  const sweep = new IdleSweep<string>({ patienceMs: 10_000 });
  const s: StreamCounts = { toServer: 100, fromServer: 500 }; // an earlier exchange, answered
  const at = (now: number): string[] => sweep.sweep([['s', { ...s }]], now, 1000);
  t.deepEqual(at(0), []);
  s.toServer += 50; // a new request goes up
  t.deepEqual(at(200), []);
  t.deepEqual(at(5000), [], 'silent for 4.8 s, but the server owes an answer');
  t.deepEqual(at(10_199), [], 'not yet 10 s');
  t.deepEqual(at(10_200), ['s'], 'a server that never answers holds the stop 10 s, no longer');
  s.fromServer += 10; // the answer starts
  t.deepEqual(at(10_300), []);
  t.deepEqual(at(11_000), [], 'silent for 0.7 s only');
  t.deepEqual(at(11_300), ['s'], 'answered and silent for a second: idle');
});

test('first seen: bytes sent and none back is a first answer awaited; any answer seen makes it an ordinary silent stream', (t) => {
  const sweep = new IdleSweep<string>({ patienceMs: 10_000 });
  const streams: [string, StreamCounts][] = [['asked', { toServer: 80, fromServer: 0 }], ['talked', { toServer: 80, fromServer: 20 }], ['fresh', { toServer: 0, fromServer: 0 }]];
  t.deepEqual(sweep.sweep(streams, 0, 1000), []);
  t.deepEqual(sweep.sweep(streams, 1000, 1000), ['talked', 'fresh']);
  t.deepEqual(sweep.sweep(streams, 10_000, 1000), ['asked', 'talked', 'fresh']);
});

test('a stream that says it waits (bytes held for a slow reader) is patient however its counts moved; without patienceMs nobody is', (t) => {
  const patient = new IdleSweep<string>({ patienceMs: 10_000 });
  const plain = new IdleSweep<string>();
  const blocked: [string, { toServer: number; fromServer: number; waiting: boolean }][] = [['download', { toServer: 100, fromServer: 9_000_000, waiting: true }]];
  for (const sweep of [patient, plain]) sweep.sweep(blocked, 0, 1000);
  t.deepEqual(patient.sweep(blocked, 3000, 1000), [], 'a reader that paused 3 s');
  t.deepEqual(plain.sweep(blocked, 3000, 1000), ['download'], "the relay's rule: silent is idle");
  t.deepEqual(patient.sweep(blocked, 10_000, 1000), ['download'], 'a reader that never reads again holds the stop 10 s');
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
