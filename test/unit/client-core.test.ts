/**
 * The client core (client/core/client-core.ts) with a hand clock and no sockets: logging in on demand,
 * logging in again in the background (keepAlive) with the code's retry policy, requests that wait for
 * that instead of failing, Goodbye, what retrying cannot fix, and failover across a cluster's relays.
 */
import test from 'ava';
import { ClientCore, type ClientCommand } from '../../client/core/client-core.js';

const BACKOFF = { minMs: 500, maxMs: 30_000, soonMaxMs: 4_000, stableMs: 60_000 };

function core(opts: { relays?: number; keepAlive?: boolean; random?: () => number; waitMs?: number } = {}): ClientCore {
  return new ClientCore({ relays: opts.relays ?? 1, keepAlive: opts.keepAlive ?? true, backoff: BACKOFF, random: opts.random ?? (() => 0.999), waitMs: opts.waitMs ?? 10_000 });
}

/** A keep-alive core that has logged in once (as a forwarder has after start) at time 0. */
function live(opts: Parameters<typeof core>[0] = {}): ClientCore {
  const c = core(opts);
  c.handle({ type: 'want', id: 1 }, 0);
  c.handle({ type: 'logged-in', relay: 0 }, 0);
  return c;
}

function retryIn(cmds: ClientCommand[]): number {
  const retry = cmds.find((c) => c.type === 'retry-in');
  if (retry?.type !== 'retry-in') throw new Error(`no retry-in in ${JSON.stringify(cmds)}`);
  return retry.afterMs;
}

test('a request logs in on demand and is granted the session; later requests are granted at once', (t) => {
  const c = core({ keepAlive: false });
  t.deepEqual(c.handle({ type: 'want', id: 1 }, 0), [{ type: 'login', relay: 0 }]);
  t.deepEqual(c.handle({ type: 'want', id: 2 }, 1), [], 'a second request waits for the same login');
  t.deepEqual(c.handle({ type: 'logged-in', relay: 0 }, 2), [{ type: 'grant', ids: [1, 2] }]);
  t.deepEqual(c.handle({ type: 'want', id: 3 }, 3), [{ type: 'grant', ids: [3] }]);
});

test('without keepAlive a lost session is made again by the next request, and a failed first login fails its requests', (t) => {
  const c = core({ keepAlive: false });
  c.handle({ type: 'want', id: 1 }, 0);
  c.handle({ type: 'logged-in', relay: 0 }, 0);
  t.deepEqual(c.handle({ type: 'lost', code: 'ERR_CONNECTION_CLOSED' }, 10), [], 'nothing in the background');
  t.is(c.nextDeadline(), undefined);
  t.deepEqual(c.handle({ type: 'want', id: 2 }, 20), [{ type: 'login', relay: 0 }]);
  t.deepEqual(c.handle({ type: 'login-failed', relay: 0, code: 'ERR_RELAY_UNREACHABLE' }, 30), [{ type: 'reject', ids: [2], code: 'ERR_RELAY_UNREACHABLE' }]);
});

test('keepAlive: a lost session is made again after a short backoff (relay not there: policy soon), and requests meanwhile wait for it', (t) => {
  const c = live();
  const delay = retryIn(c.handle({ type: 'lost', code: 'ERR_CONNECTION_CLOSED' }, 100_000));
  t.is(delay, 999, 'first retry after a stable session: within [0.5 s, 1 s]');
  t.deepEqual(c.handle({ type: 'want', id: 7 }, 100_100), [], 'no login of its own: it waits for the background one');
  t.is(c.nextDeadline(), 100_000 + delay);
  t.deepEqual(c.handle({ type: 'tick' }, 100_000 + delay - 1), []);
  t.deepEqual(c.handle({ type: 'tick' }, 100_000 + delay), [{ type: 'login', relay: 0 }]);
  t.deepEqual(c.handle({ type: 'logged-in', relay: 0 }, 101_100), [{ type: 'grant', ids: [7] }]);
});

test('keepAlive: however long the relay is away, the wait between attempts stays under soonMaxMs', (t) => {
  const c = live();
  let now = 100_000;
  now += retryIn(c.handle({ type: 'lost', code: 'ERR_CONNECTION_CLOSED' }, now));
  const waits: number[] = [];
  for (let i = 0; i < 200; i++) {
    t.deepEqual(c.handle({ type: 'tick' }, now), [{ type: 'login', relay: 0 }]);
    const wait = retryIn(c.handle({ type: 'login-failed', relay: 0, code: 'ERR_RELAY_UNREACHABLE' }, now));
    waits.push(wait);
    now += wait;
  }
  t.true(waits.every((w) => w < BACKOFF.soonMaxMs), `max ${Math.max(...waits)}`);
  // A relay that is there but refuses (policy later) is given more room.
  t.deepEqual(c.handle({ type: 'tick' }, now), [{ type: 'login', relay: 0 }]);
  t.true(retryIn(c.handle({ type: 'login-failed', relay: 0, code: 'ERR_LIMIT' }, now)) > BACKOFF.soonMaxMs);
});

test('keepAlive: a request waits up to waitMs for the session, then fails with the last reason', (t) => {
  const c = live({ waitMs: 5_000 });
  c.handle({ type: 'lost', code: 'ERR_CONNECTION_CLOSED' }, 100_000);
  c.handle({ type: 'want', id: 9 }, 100_000);
  c.handle({ type: 'tick' }, 100_999);
  t.deepEqual(c.handle({ type: 'login-failed', relay: 0, code: 'ERR_RELAY_UNREACHABLE' }, 101_000).filter((x) => x.type === 'reject'), [], 'still within its wait');
  t.deepEqual(c.handle({ type: 'tick' }, 104_999).filter((x) => x.type === 'reject'), []);
  t.deepEqual(c.handle({ type: 'tick' }, 105_000).filter((x) => x.type === 'reject'), [{ type: 'reject', ids: [9], code: 'ERR_RELAY_UNREACHABLE' }]);
});

test('Goodbye: drain, then come back after retryAfter plus under a second of jitter, coded ERR_SHUTTING_DOWN, backoff untouched', (t) => {
  const c = live({ random: () => 0.5 });
  t.deepEqual(c.handle({ type: 'goodbye', retryAfterMs: 1_000 }, 50), [{ type: 'drain' }, { type: 'retry-in', afterMs: 1_500, code: 'ERR_SHUTTING_DOWN' }]);
  t.deepEqual(c.handle({ type: 'lost', code: 'ERR_SHUTTING_DOWN' }, 60), [], 'the control channel closing after Goodbye is no loss');
  t.deepEqual(c.handle({ type: 'tick' }, 1_550), [{ type: 'login', relay: 0 }]);
  c.handle({ type: 'logged-in', relay: 0 }, 1_600);
  t.is(retryIn(c.handle({ type: 'lost', code: 'ERR_CONNECTION_CLOSED' }, 1_700)), 750, 'the first delay of the sequence');
});

test('what retrying cannot fix: a refused account at a background login rejects the waiters and stops for good', (t) => {
  const c = live();
  c.handle({ type: 'lost', code: 'ERR_CONNECTION_CLOSED' }, 100_000);
  c.handle({ type: 'want', id: 4 }, 100_000);
  c.handle({ type: 'tick' }, 101_000);
  t.deepEqual(c.handle({ type: 'login-failed', relay: 0, code: 'ERR_AUTH_FAILED' }, 101_010), [
    { type: 'reject', ids: [4], code: 'ERR_AUTH_FAILED' }, { type: 'fatal', code: 'ERR_AUTH_FAILED' },
  ]);
  t.is(c.phase, 'closed');
  t.deepEqual(c.handle({ type: 'want', id: 5 }, 101_020), [{ type: 'reject', ids: [5], code: 'ERR_CONNECTION_CLOSED' }]);
  // The first login of all is the caller's to report: rejected, not fatal.
  const fresh = core();
  fresh.handle({ type: 'want', id: 1 }, 0);
  t.deepEqual(fresh.handle({ type: 'login-failed', relay: 0, code: 'ERR_RELAY_KEY_MISMATCH' }, 1), [{ type: 'reject', ids: [1], code: 'ERR_RELAY_KEY_MISMATCH' }]);
});

test('a cluster: a login tries the next relay when the code fails over; a failed request drops the session and moves on', (t) => {
  const c = core({ relays: 3, keepAlive: false });
  t.deepEqual(c.handle({ type: 'want', id: 1 }, 0), [{ type: 'login', relay: 0 }]);
  t.deepEqual(c.handle({ type: 'login-failed', relay: 0, code: 'ERR_RELAY_UNREACHABLE' }, 1), [{ type: 'login', relay: 1 }]);
  t.deepEqual(c.handle({ type: 'logged-in', relay: 1 }, 2), [{ type: 'grant', ids: [1] }]);
  t.deepEqual(c.handle({ type: 'request-failed', code: 'ERR_UNKNOWN_SERVER' }, 3), [], 'another relay would say the same');
  t.deepEqual(c.handle({ type: 'request-failed', code: 'ERR_CLUSTER_UNAVAILABLE' }, 4), [{ type: 'drop-session' }, { type: 'failover', code: 'ERR_CLUSTER_UNAVAILABLE' }]);
  t.deepEqual(c.handle({ type: 'want', id: 2 }, 5), [{ type: 'login', relay: 2 }]);
  // A code that does not fail over ends the round at the first relay.
  const d = core({ relays: 2, keepAlive: false });
  d.handle({ type: 'want', id: 1 }, 0);
  t.deepEqual(d.handle({ type: 'login-failed', relay: 0, code: 'ERR_AUTH_FAILED' }, 1), [{ type: 'reject', ids: [1], code: 'ERR_AUTH_FAILED' }]);
});

test('close rejects every waiting request and drops the session', (t) => {
  const c = core();
  c.handle({ type: 'want', id: 1 }, 0);
  t.deepEqual(c.handle({ type: 'close' }, 1), [{ type: 'drop-session' }, { type: 'reject', ids: [1], code: 'ERR_CONNECTION_CLOSED' }]);
});

test('keep-trying: a first login that failed for a reason retrying can fix goes on in the background, and later requests wait for it', (t) => {
  const c = core();
  c.handle({ type: 'want', id: 1 }, 0);
  t.deepEqual(c.handle({ type: 'login-failed', relay: 0, code: 'ERR_RELAY_UNREACHABLE' }, 10), [{ type: 'reject', ids: [1], code: 'ERR_RELAY_UNREACHABLE' }]);
  t.is(c.nextDeadline(), undefined, 'nothing in the background yet');
  const after = retryIn(c.handle({ type: 'keep-trying' }, 10));
  t.true(after >= 500 && after <= 4_000, `the relay not being there is retried soon (${after} ms)`);
  t.deepEqual(c.handle({ type: 'want', id: 2 }, 20), [], 'a request waits for the background login');
  t.deepEqual(c.handle({ type: 'tick' }, 10 + after), [{ type: 'login', relay: 0 }]);
  t.deepEqual(c.handle({ type: 'logged-in', relay: 0 }, 11 + after), [{ type: 'grant', ids: [2] }]);
  // What retrying cannot fix is not tried again.
  const refused = core();
  refused.handle({ type: 'want', id: 1 }, 0);
  refused.handle({ type: 'login-failed', relay: 0, code: 'ERR_AUTH_FAILED' }, 10);
  t.deepEqual(refused.handle({ type: 'keep-trying' }, 10), []);
});
