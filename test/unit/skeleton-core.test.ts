/**
 * The skeleton core (skeleton/core/skeleton-core.ts): advertising, the pool of idle data connections and
 * its growth under demand, dials, and reconnecting with exponential backoff and full jitter (shared/backoff.ts).
 */
import test from 'ava';
import { Backoff } from '../../shared/backoff.js';
import type { RelayControlMessage } from '../../shared/protocol/messages.js';
import { SkeletonCore, type SkeletonCommand } from '../../skeleton/core/skeleton-core.js';

const BACKOFF = { minMs: 500, maxMs: 30_000, soonMaxMs: 4_000, stableMs: 60_000 };
const POOL = { type: 'open-data', purpose: 'pool' } as const;

function core(pool = 2, poolMax = 4, random = () => 0.5): SkeletonCore {
  return new SkeletonCore({ pool, poolMax, backoff: BACKOFF, random });
}

function dial(c: SkeletonCore, id: string, now = 0): SkeletonCommand[] {
  return c.handle({ type: 'control', msg: { t: 'dial', dial: id, server: 'web' } }, now);
}

test('on connected it advertises and opens `pool` pool connections', (t) => {
  t.deepEqual(core(3).handle({ type: 'connected' }, 0), [{ type: 'advertise' }, POOL, POOL, POOL]);
  t.deepEqual(core(0).handle({ type: 'connected' }, 0), [{ type: 'advertise' }]);
});

test('nothing is opened before the first connection', (t) => {
  const c = core();
  t.deepEqual(c.handle({ type: 'tick' }, 0), []);
  t.deepEqual(c.handle({ type: 'pool-used' }, 0), []);
});

test('each pool-used opens exactly one replacement; a tick with a full pool opens nothing', (t) => {
  const c = core(2);
  c.handle({ type: 'connected' }, 0);
  t.deepEqual(c.handle({ type: 'pool-used' }, 1), [POOL]);
  t.deepEqual(c.handle({ type: 'pool-used' }, 2), [POOL]);
  t.deepEqual(c.handle({ type: 'tick' }, 3), []);
  t.is(c.pooled, 2);
});

test('a dial opens a dial connection with that id and grows the pool target by one, up to poolMax', (t) => {
  const c = core(2, 3);
  c.handle({ type: 'connected' }, 0);
  t.deepEqual(dial(c, 'd1'), [{ type: 'open-data', purpose: 'dial', dial: 'd1', server: 'web' }, POOL]);
  t.is(c.poolTarget, 3);
  t.deepEqual(dial(c, 'd2'), [{ type: 'open-data', purpose: 'dial', dial: 'd2', server: 'web' }], 'at poolMax: no growth');
  t.is(c.poolTarget, 3);
  // The grown target holds: a used connection is replaced up to three idle ones.
  t.deepEqual(c.handle({ type: 'pool-used' }, 1), [POOL]);
  t.is(c.pooled, 3);
});

test('other control messages open nothing', (t) => {
  const c = core();
  c.handle({ type: 'connected' }, 0);
  const messages: RelayControlMessage[] = [{ t: 'ping', n: 1 }, { t: 'advertised', id: 1, accepted: ['web'], rejected: [] }, { t: 'goodbye', retryAfter: 5 }];
  for (const msg of messages) {
    t.deepEqual(c.handle({ type: 'control', msg }, 1), []);
  }
  t.is(c.poolTarget, 2);
});

test('pool-lost does not reopen until the next tick', (t) => {
  const c = core(2);
  c.handle({ type: 'connected' }, 0);
  t.deepEqual(c.handle({ type: 'pool-lost' }, 1), []);
  t.deepEqual(c.handle({ type: 'pool-lost' }, 2), []);
  t.is(c.pooled, 0);
  t.deepEqual(c.handle({ type: 'tick' }, 3), [POOL, POOL]);
});

test('disconnected asks for a reconnect with the code, and nothing opens until connected again', (t) => {
  const c = core(2);
  c.handle({ type: 'connected' }, 0);
  const [cmd, ...rest] = c.handle({ type: 'disconnected', code: 'ERR_CONNECTION_CLOSED' }, 1000);
  t.deepEqual(rest, []);
  if (cmd?.type !== 'reconnect') return t.fail('no reconnect');
  t.is(cmd.code, 'ERR_CONNECTION_CLOSED');
  t.is(cmd.afterMs, 750, 'first attempt: within [minMs, 2 minMs], random 0.5 halfway');
  t.deepEqual(c.handle({ type: 'tick' }, 2000), []);
  t.deepEqual(c.handle({ type: 'connected' }, 3000), [{ type: 'advertise' }, POOL, POOL], 'the whole pool is reopened');
});

/** Delays of `n` successive failed attempts, each reported as a disconnect with `code`. */
function delays(c: SkeletonCore, n: number, start: number, code: 'ERR_RELAY_UNREACHABLE' | 'ERR_LIMIT' = 'ERR_LIMIT'): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const [cmd] = c.handle({ type: 'disconnected', code }, start + i);
    out.push(cmd?.type === 'reconnect' ? cmd.afterMs : -1);
  }
  return out;
}

test("a relay that refuses (retry policy 'later'): delays lie in [minMs, ceiling] and the ceiling doubles up to maxMs", (t) => {
  const got = delays(core(2, 4, () => 0.999), 10, 0, 'ERR_LIMIT');
  const ceilings = [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000, 30_000];
  got.forEach((d, i) => {
    t.true(d >= BACKOFF.minMs && d <= ceilings[i]!, `attempt ${i}: ${d} within [500, ${ceilings[i]}]`);
    t.true(d > ceilings[i]! * 0.99, `attempt ${i}: ${d} near its ceiling`);
  });
});

test("a relay that is not there (retry policy 'soon'): the ceiling stops at soonMaxMs, so the last wait before it returns is short", (t) => {
  const got = delays(core(2, 4, () => 0.999), 40, 0, 'ERR_RELAY_UNREACHABLE');
  t.deepEqual(got.slice(0, 4), [999, 1998, 3996, 3996]);
  t.true(got.every((d) => d >= BACKOFF.minMs && d < BACKOFF.soonMaxMs), JSON.stringify(got));
});

test('retry policy stop (a refused account or relay key): the core says fatal instead of reconnecting', (t) => {
  const c = core();
  t.deepEqual(c.handle({ type: 'start' }, 0), [{ type: 'reconnect', afterMs: 0, code: 'ERR_RELAY_UNREACHABLE' }], 'the first login goes through the core too');
  t.deepEqual(c.handle({ type: 'disconnected', code: 'ERR_AUTH_FAILED' }, 10), [{ type: 'fatal', code: 'ERR_AUTH_FAILED' }]);
  t.deepEqual(c.handle({ type: 'disconnected', code: 'ERR_RELAY_KEY_MISMATCH' }, 20), [{ type: 'fatal', code: 'ERR_RELAY_KEY_MISMATCH' }]);
});

test('full jitter: a random() near 0 gives the minimum delay at any attempt', (t) => {
  t.deepEqual(delays(core(2, 4, () => 0), 8, 0), Array(8).fill(BACKOFF.minMs));
});

test('a connection stable for stableMs resets the sequence; a shorter one does not', (t) => {
  const c = core(2, 4, () => 0.999);
  delays(c, 5, 0);
  c.handle({ type: 'connected' }, 1_000);
  const [short] = delays(c, 1, 1_000 + BACKOFF.stableMs - 1);
  t.true(short! > 30_000 * 0.99, `still growing: ${short}`);
  c.handle({ type: 'connected' }, 200_000);
  t.deepEqual(delays(c, 2, 200_000 + BACKOFF.stableMs), [999, 1998]);
});

test('Backoff on its own: same sequence without a skeleton, defaults bounded by 30 s', (t) => {
  const b = new Backoff(undefined, () => 0.999);
  const seq = Array.from({ length: 12 }, (_, i) => b.next(i));
  t.is(seq[0], 999);
  t.true(seq.every((d, i) => i === 0 || d >= seq[i - 1]!), 'non-decreasing with a fixed random');
  t.is(seq.at(-1), Math.floor(500 + 0.999 * 29_500));
});

test('withdrawn by a takeover: the core advertises again every 2 to 4 s until the relay gives the ids back', (t) => {
  const c = core(0, 0, () => 0);
  c.handle({ type: 'connected' }, 0);
  t.deepEqual(c.handle({ type: 'control', msg: { t: 'withdrawn', servers: ['web'], code: 'ERR_SERVER_ID_TAKEN' } }, 1_000), []);
  t.deepEqual(c.withdrawn, ['web']);
  t.deepEqual(c.handle({ type: 'tick' }, 2_999), []);
  t.deepEqual(c.handle({ type: 'tick' }, 3_000), [{ type: 'advertise' }]);
  c.handle({ type: 'advertised', accepted: [] }, 3_010);
  t.deepEqual(c.handle({ type: 'tick' }, 4_999), [], 'not yet free: the next try is 2 s later');
  t.deepEqual(c.handle({ type: 'tick' }, 5_000), [{ type: 'advertise' }]);
  c.handle({ type: 'advertised', accepted: ['web'] }, 5_010);
  t.deepEqual(c.withdrawn, []);
  t.deepEqual(c.handle({ type: 'tick' }, 60_000), [], 'ours again: no more advertising');
});
