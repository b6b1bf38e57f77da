/**
 * The login queue (relay/core/login-queue.ts) and how the core uses it, with a hand clock: per-source and
 * total caps, round robin between sources, the priority lane, a hung-up login dropped before any work and
 * charged to its source, and a login that waited too long refused with ERR_BUSY.
 */
import test from 'ava';
import { LoginQueue } from '../../relay/core/login-queue.js';
import { DEFAULT_GUARD_LIMITS } from '../../relay/core/source-guard.js';
import { closed, plainTo, RelayHarness, userRecord } from '../helpers/unit-relay.js';

const CAROL = userRecord(['client'], { access: ['*'] });

test('LoginQueue: sources take turns, the priority lane goes first, caps refuse before any work', (t) => {
  const q = new LoginQueue({ concurrency: 1, perSource: 3, total: 5 });
  for (const conn of [1, 2, 3]) t.is(q.add('a', conn), 'queued');
  t.is(q.add('a', 4), 'source-full');
  t.is(q.add('b', 5), 'queued');
  t.is(q.add('c', 6), 'queued');
  t.is(q.add('d', 7), 'queue-full');
  t.is(q.add('vip', 8, true), 'queued', 'the total cap does not apply to the priority lane');
  const order: number[] = [];
  for (;;) {
    const [next] = q.start();
    if (!next) break;
    order.push(next.conn);
    t.true(q.isRunning(next.conn));
    t.deepEqual(q.start(), [], 'concurrency 1: nothing else starts while one runs');
    q.finished(next.conn);
  }
  t.deepEqual(order, [8, 1, 5, 6, 2, 3]);
  t.is(q.waiting, 0);
  t.is(q.running, 0);
});

test('LoginQueue: a removed login never starts; a finished one frees its source', (t) => {
  const q = new LoginQueue({ concurrency: 2, perSource: 2, total: 10 });
  q.add('a', 1);
  q.add('a', 2);
  t.true(q.remove('a', 2));
  t.false(q.remove('a', 2));
  t.deepEqual(q.start().map((s) => s.conn), [1]);
  t.is(q.ofSource('a'), 1);
  t.false(q.remove('a', 1), 'a running check cannot be removed');
  q.finished(1);
  t.is(q.ofSource('a'), 0);
});

test('core: logins beyond the concurrency wait; a hung-up waiting login is dropped, charged to its source, and the next one starts', (t) => {
  const h = new RelayHarness({ loginConcurrency: 1 });
  const first = h.greet('client');
  const second = h.greet('client');
  const third = h.greet('client');
  t.is(h.beginLogin(first.conn).conn, first.conn);
  const waiting = h.sendPlain(second.conn, { t: 'login', jwe: 'a.b.c.d.e' });
  t.false(waiting.some((c) => c.type === 'verify-login'), 'the second login waits');
  h.sendPlain(third.conn, { t: 'login', jwe: 'a.b.c.d.e' });
  h.closeConn(second.conn);
  t.true(h.notes.some((n) => n.kind === 'login' && !n.ok && n.reason === 'abandoned'));
  // The first check ends: the third login starts, the hung-up second never does.
  const cmds = h.handle({ type: 'login-verified', conn: first.conn, verdict: h.verdict(first.hello, 'carol', CAROL) });
  t.deepEqual(cmds.filter((c) => c.type === 'verify-login').map((c) => c.type === 'verify-login' && c.conn), [third.conn]);
  t.is(plainTo(first.conn, cmds)[0]?.t, 'welcome');
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});

test('core: a login still waiting after loginTimeoutMs gets ERR_BUSY and no penalty; one from a penalised source gets ERR_THROTTLED without work', (t) => {
  const h = new RelayHarness({ loginConcurrency: 1, loginTimeoutMs: 5_000 });
  const running = h.greet('client');
  h.beginLogin(running.conn);
  const late = h.greet('client');
  h.sendPlain(late.conn, { t: 'login', jwe: 'a.b.c.d.e' });
  h.now += 5_000;
  t.deepEqual(h.tick(), []);
  h.now += 1;
  const cmds = h.tick();
  t.deepEqual(plainTo(late.conn, cmds), [{ t: 'error', code: 'ERR_BUSY' }]);
  t.true(closed(late.conn, cmds));
  t.false(h.core.state.guard.throttled(h.source, h.now));
  // Penalties earned elsewhere: a connection greeted before them gets no password check.
  h.source = '192.0.2.77';
  const greeted = h.greet('client');
  for (let i = 0; i < 3; i++) h.core.state.guard.penalize(h.source, 'auth-fail', h.now);
  const refused = h.sendPlain(greeted.conn, { t: 'login', jwe: 'a.b.c.d.e' });
  t.deepEqual(plainTo(greeted.conn, refused), [{ t: 'error', code: 'ERR_THROTTLED' }]);
  t.false(refused.some((c) => c.type === 'verify-login'));
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});

test('LoginQueue: a source gets one login in the priority lane; its others take their turn with everyone', (t) => {
  const q = new LoginQueue({ concurrency: 1, perSource: 8, total: 8 });
  q.add('stranger', 3);
  q.add('vip', 1, true);
  q.add('vip', 2, true);
  const order: number[] = [];
  for (let next = q.start()[0]; next; next = q.start()[0]) {
    order.push(next.conn);
    q.finished(next.conn);
  }
  t.deepEqual(order, [1, 3, 2]);
});

test('core: a right password refused for the session limit charges its source like a failure (it cost a password check)', (t) => {
  const h = new RelayHarness({ maxSessionsPerUser: 1 });
  h.login('carol', 'client', CAROL);
  for (let i = 0; i < 3; i++) {
    const { conn, hello } = h.greet('client');
    h.beginLogin(conn);
    const cmds = h.handle({ type: 'login-verified', conn, verdict: h.verdict(hello, 'carol', CAROL) });
    t.deepEqual(plainTo(conn, cmds), [{ t: 'error', code: 'ERR_LIMIT' }]);
  }
  t.true(h.core.state.guard.throttled(h.source, h.now), 'three refusals earn the source its penalty');
  const { conn } = h.greet('client');
  const refused = h.sendPlain(conn, { t: 'login', jwe: 'a.b.c.d.e' });
  t.false(refused.some((c) => c.type === 'verify-login'), 'no more password checks from there for a while');
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});

test('LoginQueue: the priority lane gets at most two turns in a row while the other lane waits', (t) => {
  const q = new LoginQueue({ concurrency: 1, perSource: 8, total: 8 });
  for (let i = 1; i <= 5; i++) q.add(`trusted-${i}`, i, true);
  q.add('newcomer', 99);
  const order: number[] = [];
  for (let next = q.start()[0]; next; next = q.start()[0]) {
    order.push(next.conn);
    q.finished(next.conn);
  }
  t.deepEqual(order, [1, 2, 99, 3, 4, 5]);
});

test('core: a source over its budget of successful logins is charged for each further one, until its logins wait out a penalty', (t) => {
  const h = new RelayHarness({}, { guard: { ...DEFAULT_GUARD_LIMITS, loginBurst: 3, loginsPerSecond: 1 } });
  const outcomes: string[] = [];
  for (let i = 0; i < 14; i++) {
    const { conn, hello } = h.greet('client');
    const sent = h.sendPlain(conn, { t: 'login', jwe: 'a.b.c.d.e' });
    if (!sent.some((c) => c.type === 'verify-login')) {
      outcomes.push(String(plainTo(conn, sent)[0]?.t === 'error' ? (plainTo(conn, sent)[0] as { code: string }).code : 'none'));
      continue;
    }
    const cmds = h.handle({ type: 'login-verified', conn, verdict: h.verdict(hello, 'carol', CAROL) });
    outcomes.push(plainTo(conn, cmds)[0]?.t ?? 'none');
    h.closeConn(conn);
  }
  t.log(outcomes.join(' '));
  // 3 free, then each success costs 2 s of penalty: after 8 more, 16 s reach the 15 s minimum.
  t.deepEqual(outcomes.slice(0, 11), Array<string>(11).fill('welcome'));
  t.is(outcomes.at(-1), 'ERR_THROTTLED');
});
