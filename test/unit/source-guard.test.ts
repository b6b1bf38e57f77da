/**
 * relay/core/source-guard.ts (S6): the unit penalties are kept per (IPv4 address, IPv6 /64), counting
 * of unauthenticated connections, growing and forgiven penalties, the per-user throttle with its
 * known-good sources, and the bound on what the guard remembers.
 */
import test from 'ava';
import { DEFAULT_GUARD_LIMITS, SourceGuard, sourceKey, type GuardLimits } from '../../relay/core/source-guard.js';

const T0 = 1_700_000_000_000;

function guard(limits: Partial<GuardLimits> = {}): SourceGuard {
  return new SourceGuard({ ...DEFAULT_GUARD_LIMITS, ...limits });
}

test('S6: sourceKey: an IPv4 address is its own key; an IPv4-mapped IPv6 address is the IPv4 address', (t) => {
  t.is(sourceKey('203.0.113.7'), '203.0.113.7');
  t.is(sourceKey('::ffff:203.0.113.7'), '203.0.113.7');
  t.is(sourceKey('::FFFF:203.0.113.7'), '203.0.113.7');
  t.not(sourceKey('203.0.113.7'), sourceKey('203.0.113.8'), 'no IPv4 grouping');
});

test('S6: sourceKey: IPv6 addresses are grouped by /64, whatever their textual form', (t) => {
  const key = '2001:db8:1:2::/64';
  for (const address of ['2001:db8:1:2::1', '2001:db8:1:2:3:4:5:6', '2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001:DB8:1:2::', '2001:db8:1:2:0:0:0:1']) {
    t.is(sourceKey(address), key, address);
  }
  t.is(sourceKey('2001:db8::1'), '2001:db8:0:0::/64');
  t.is(sourceKey('2001:db8::1:0:0:0'), '2001:db8:0:0::/64', ':: before the fifth group');
  t.is(sourceKey('2001:db8:0:1::'), '2001:db8:0:1::/64');
  t.is(sourceKey('2001:db8:0:0:1::'), '2001:db8:0:0::/64');
  t.is(sourceKey('::1'), '0:0:0:0::/64');
  t.is(sourceKey('::'), '0:0:0:0::/64');
  t.is(sourceKey('fe80::1'), 'fe80:0:0:0::/64');
  t.not(sourceKey('2001:db8:1:2::1'), sourceKey('2001:db8:1:3::1'), 'neighbouring /64s differ');
  t.not(sourceKey('::1'), sourceKey('127.0.0.1'));
});

test('S6: admit counts unauthenticated connections per source and overall; release frees them', (t) => {
  const g = guard({ maxUnauthPerSource: 2, maxUnauth: 3 });
  t.is(g.admit('a', T0), 'ok');
  t.is(g.admit('a', T0), 'ok');
  t.is(g.admit('a', T0), 'busy', 'per-source cap');
  t.is(g.admit('b', T0), 'ok');
  t.is(g.admit('c', T0), 'busy', 'overall cap');
  t.is(g.unauthenticated, 3);
  g.release('a');
  t.is(g.unauthenticated, 2);
  t.is(g.admit('c', T0), 'ok');
  t.is(g.admit('a', T0), 'busy', 'the freed slot went to c: the overall cap again');
  g.release('c');
  t.is(g.admit('a', T0), 'ok');
});

test('S6: release of a source with nothing open changes nothing', (t) => {
  const g = guard({ maxUnauthPerSource: 1, maxUnauth: 1 });
  t.is(g.admit('a', T0), 'ok');
  g.release('nobody');
  g.release('nobody');
  t.is(g.unauthenticated, 1);
  t.is(g.admit('b', T0), 'busy');
  g.release('a');
  g.release('a');
  t.is(g.unauthenticated, 0);
  t.is(g.admit('b', T0), 'ok');
  t.is(g.admit('c', T0), 'busy', 'a double release did not open a second slot');
});

test('S6: penalties: refused once they reach the minimum, until they run out', (t) => {
  const g = guard();
  const { penaltyAuthFailMs: fail, penaltyNoAuthMs: noAuth, penaltyMinMs: min } = DEFAULT_GUARD_LIMITS;
  g.penalize('a', 'auth-fail', T0);
  g.penalize('a', 'auth-fail', T0);
  t.is(g.admit('a', T0), 'ok', `${2 * fail} ms < ${min} ms`);
  g.release('a');
  g.penalize('a', 'auth-fail', T0);
  t.is(g.admit('a', T0), 'throttled');
  t.is(g.admit('a', T0 + 3 * fail - 1), 'throttled');
  t.is(g.admit('a', T0 + 3 * fail), 'ok');
  t.is(g.admit('b', T0), 'ok', 'other sources are unaffected');
  // Garbage and timeouts cost less than failed logins.
  const h = guard();
  const needed = Math.ceil(min / noAuth);
  for (let i = 0; i < needed - 1; i++) h.penalize('c', 'no-auth', T0);
  t.is(h.admit('c', T0), 'ok');
  h.penalize('c', 'no-auth', T0);
  t.is(h.admit('c', T0), 'throttled');
});

test('S6: penalties grow for a repeat offender, are capped at penaltyMaxMs, and are forgiven once long run out', (t) => {
  const limits = { penaltyAuthFailMs: 10, penaltyNoAuthMs: 5, penaltyMinMs: 30, penaltyMaxMs: 100 };
  const g = guard(limits);
  for (let i = 0; i < 3; i++) g.penalize('a', 'auth-fail', T0);
  t.is(g.admit('a', T0 + 29), 'throttled');
  t.is(g.admit('a', T0 + 30), 'ok');
  g.release('a');
  // Soon after: the penalty carries over and grows (40 ms now).
  g.penalize('a', 'auth-fail', T0 + 30);
  t.is(g.admit('a', T0 + 30 + 39), 'throttled');
  t.is(g.admit('a', T0 + 30 + 40), 'ok');
  g.release('a');
  // Many offences: capped.
  for (let i = 0; i < 50; i++) g.penalize('a', 'auth-fail', T0 + 100);
  t.is(g.admit('a', T0 + 100 + 99), 'throttled');
  t.is(g.admit('a', T0 + 100 + 100), 'ok', 'never longer than penaltyMaxMs');
  g.release('a');
  // Long after it ran out (until + penaltyMaxMs), a new offence starts from scratch.
  const later = T0 + 200 + 100;
  g.penalize('a', 'auth-fail', later);
  g.penalize('a', 'auth-fail', later);
  t.is(g.admit('a', later), 'ok', 'two fresh offences (20 ms) are below the minimum again');
  g.release('a');
  // But just before that point it would have carried.
  const h = guard(limits);
  for (let i = 0; i < 3; i++) h.penalize('b', 'auth-fail', T0);
  h.penalize('b', 'auth-fail', T0 + 30 + 99);
  t.is(h.admit('b', T0 + 30 + 99), 'throttled', 'still carried: 40 ms');
});

test('S6: user throttle: too many failures in the window throttle a name, except from its known-good sources, and lift as failures age out', (t) => {
  const g = guard({ userMaxFailures: 3, userWindowMs: 1000 });
  g.userSucceeded('alice', 'home');
  g.userFailed('alice', 'x1', T0);
  g.userFailed('alice', 'x2', T0 + 500);
  t.false(g.userThrottled('alice', 'elsewhere', T0 + 500));
  g.userFailed('alice', 'x3', T0 + 900);
  t.true(g.userThrottled('alice', 'elsewhere', T0 + 900));
  t.false(g.userThrottled('alice', 'home', T0 + 900), 'never from a source that logged in before');
  t.false(g.userThrottled('bob', 'elsewhere', T0 + 900), 'names are counted separately');
  t.true(g.userThrottled('alice', 'elsewhere', T0 + 999));
  t.false(g.userThrottled('alice', 'elsewhere', T0 + 1000), 'the first failure has left the window');
  t.false(g.userThrottled('alice', 'elsewhere', T0 + 1900 + 1));
});

test('S6: user throttle: one source counts at most userFailuresPerSource toward a name', (t) => {
  const g = guard({ userMaxFailures: 4, userFailuresPerSource: 2, userWindowMs: 1000 });
  for (let i = 0; i < 10; i++) g.userFailed('alice', 'attacker', T0 + i);
  t.false(g.userThrottled('alice', 'elsewhere', T0 + 10), 'ten failures from one place are two');
  g.userFailed('alice', 'other', T0 + 11);
  g.userFailed('alice', 'other', T0 + 12);
  t.true(g.userThrottled('alice', 'elsewhere', T0 + 12), 'two places, two each');
});

test('S6: user throttle: known-good sources are bounded at 32 per name, oldest forgotten first', (t) => {
  const g = guard({ userMaxFailures: 1, userWindowMs: 1000 });
  for (let i = 0; i < 33; i++) g.userSucceeded('alice', `s${i}`);
  g.userFailed('alice', 'x', T0);
  t.true(g.userThrottled('alice', 's0', T0), 'the oldest was forgotten');
  t.false(g.userThrottled('alice', 's1', T0));
  t.false(g.userThrottled('alice', 's32', T0));
});

test('S6: maxTracked bounds what the guard remembers: the oldest penalty and user records go first', (t) => {
  const g = guard({ penaltyAuthFailMs: 100, penaltyMinMs: 100, maxTracked: 3, userMaxFailures: 1, userWindowMs: 1000 });
  for (const s of ['a', 'b', 'c']) g.penalize(s, 'auth-fail', T0);
  // Touching 'a' again makes it the newest.
  g.penalize('a', 'auth-fail', T0);
  g.penalize('d', 'auth-fail', T0);
  t.is(g.admit('b', T0), 'ok', 'b, the oldest, was forgotten');
  t.is(g.admit('a', T0), 'throttled');
  t.is(g.admit('c', T0), 'throttled');
  t.is(g.admit('d', T0), 'throttled');
  for (const u of ['u1', 'u2', 'u3', 'u4']) g.userFailed(u, 's', T0);
  t.false(g.userThrottled('u1', 'x', T0), 'u1 forgotten');
  t.true(g.userThrottled('u4', 'x', T0));
});

test('S6: a penalised source that has logged in before is admitted (its data connections) at a bounded rate, a stranger not at all', (t) => {
  const g = new SourceGuard({ ...DEFAULT_GUARD_LIMITS, trustedWhilePenalisedPerSecond: 5 });
  const now = 1_000_000;
  g.userSucceeded('carol', '192.0.2.1');
  for (const source of ['192.0.2.1', '192.0.2.2']) for (let i = 0; i < 4; i++) g.penalize(source, 'auth-fail', now);
  t.is(g.admit('192.0.2.2', now), 'throttled', 'a stranger is refused at connect');
  const admitted = Array.from({ length: 8 }, () => g.admit('192.0.2.1', now)).filter((a) => a === 'ok').length;
  t.is(admitted, 5, 'a trusted source: 5 at once, then refused');
  t.is(g.admit('192.0.2.1', now + 400), 'ok', 'and one more per 200 ms');
});
