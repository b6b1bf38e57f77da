/**
 * Liveness rules of the sans-IO cores, with hand clocks and no sockets: the skeleton core's reaction to
 * Goodbye (come back after retryAfter plus under a second of jitter, backoff untouched) and to a changed
 * server list (advertise only while connected); the relay core's reaction to a changed users file (end
 * the sessions of removed or disabled accounts, re-apply serve and access patterns to the others) and
 * to shutdown (Goodbye to every session, running streams left to drain).
 */
import test from 'ava';
import type { RelayCommand } from '../../relay/core/relay-events.js';
import { decodeBody } from '../../shared/protocol/codec.js';
import { parseRelayControl } from '../../shared/protocol/parse.js';
import type { UserRecord } from '../../relay/users/users-file.js';
import { SkeletonCore, type SkeletonCommand } from '../../skeleton/core/skeleton-core.js';
import { closed, plainTo, RelayHarness, userRecord, type Peer } from '../helpers/unit-relay.js';

const BACKOFF = { minMs: 500, maxMs: 30_000, soonMaxMs: 4_000, stableMs: 60_000 };
const POOL = { type: 'open-data', purpose: 'pool' } as const;

function core(random: () => number, pool = 2): SkeletonCore {
  return new SkeletonCore({ pool, poolMax: 4, backoff: BACKOFF, random });
}

function reconnectDelay(cmds: SkeletonCommand[]): number {
  const [cmd, ...rest] = cmds;
  if (cmd?.type !== 'reconnect' || rest.length > 0) throw new Error(`expected one reconnect, got ${JSON.stringify(cmds)}`);
  return cmd.afterMs;
}

test('skeleton core: goodbye asks for a reconnect after retryAfterMs plus under a second of jitter, coded ERR_SHUTTING_DOWN', (t) => {
  for (const [random, expected] of [[0, 5_000], [0.5, 5_500], [0.999, 5_999]] as const) {
    const c = core(() => random);
    c.handle({ type: 'connected' }, 0);
    t.deepEqual(c.handle({ type: 'goodbye', retryAfterMs: 5_000 }, 1_000), [{ type: 'reconnect', afterMs: expected, code: 'ERR_SHUTTING_DOWN' }]);
  }
  // Every draw stays within [retryAfter, retryAfter + 1 s).
  let n = 0;
  const c = core(() => (n++ % 100) / 100);
  for (let i = 0; i < 100; i++) {
    c.handle({ type: 'connected' }, i * 10);
    const d = reconnectDelay(c.handle({ type: 'goodbye', retryAfterMs: 2_000 }, i * 10 + 1));
    t.true(d >= 2_000 && d < 3_000, `${d}`);
  }
});

test('skeleton core: goodbyes do not grow the backoff; the next failure continues the sequence where it was', (t) => {
  // With random() = 0.999 each failure's delay is just under its ceiling: 999, 1998, 3996, ... (ERR_TIMEOUT: policy later)
  const withGoodbyes = core(() => 0.999);
  const without = core(() => 0.999);
  for (const c of [withGoodbyes, without]) {
    c.handle({ type: 'connected' }, 0);
    t.is(reconnectDelay(c.handle({ type: 'disconnected', code: 'ERR_CONNECTION_CLOSED' }, 10)), 999);
    t.is(reconnectDelay(c.handle({ type: 'disconnected', code: 'ERR_RELAY_UNREACHABLE' }, 20)), 1998);
  }
  for (let i = 0; i < 5; i++) {
    withGoodbyes.handle({ type: 'connected' }, 100 + i);
    t.is(reconnectDelay(withGoodbyes.handle({ type: 'goodbye', retryAfterMs: 5_000 }, 100 + i)), 5_999);
  }
  withGoodbyes.handle({ type: 'connected' }, 200);
  without.handle({ type: 'connected' }, 200);
  const a = reconnectDelay(withGoodbyes.handle({ type: 'disconnected', code: 'ERR_TIMEOUT' }, 300));
  const b = reconnectDelay(without.handle({ type: 'disconnected', code: 'ERR_TIMEOUT' }, 300));
  t.is(a, 3996, 'third failure: ceiling 4 s, five goodbyes in between counted for nothing');
  t.is(a, b);

  // Only goodbyes since the start: the first failure still gets the first delay.
  const fresh = core(() => 0.999);
  for (let i = 0; i < 10; i++) {
    fresh.handle({ type: 'connected' }, i);
    fresh.handle({ type: 'goodbye', retryAfterMs: 1_000 }, i);
  }
  fresh.handle({ type: 'connected' }, 20);
  t.is(reconnectDelay(fresh.handle({ type: 'disconnected', code: 'ERR_TIMEOUT' }, 30)), 999);
});

test('skeleton core: after goodbye nothing is opened or advertised until connected again, then the whole pool is reopened', (t) => {
  const c = core(() => 0.5, 2);
  c.handle({ type: 'connected' }, 0);
  c.handle({ type: 'goodbye', retryAfterMs: 5_000 }, 10);
  t.is(c.pooled, 0, 'the relay closes a leaving session\'s pool');
  t.deepEqual(c.handle({ type: 'tick' }, 20), []);
  t.deepEqual(c.handle({ type: 'pool-used' }, 30), []);
  t.deepEqual(c.handle({ type: 'servers-changed' }, 40), []);
  t.deepEqual(c.handle({ type: 'pool-lost' }, 50), []);
  t.deepEqual(c.handle({ type: 'connected' }, 6_000), [{ type: 'advertise' }, POOL, POOL]);
});

test('skeleton core: servers-changed advertises only while connected', (t) => {
  const c = core(() => 0.5);
  t.deepEqual(c.handle({ type: 'servers-changed' }, 0), [], 'before the first login');
  c.handle({ type: 'connected' }, 1);
  t.deepEqual(c.handle({ type: 'servers-changed' }, 2), [{ type: 'advertise' }], 'connected: advertise the new list, and nothing else');
  t.deepEqual(c.handle({ type: 'servers-changed' }, 3), [{ type: 'advertise' }]);
  c.handle({ type: 'disconnected', code: 'ERR_TIMEOUT' }, 4);
  t.deepEqual(c.handle({ type: 'servers-changed' }, 5), [], 'disconnected: the next login advertises anyway');
  t.deepEqual(c.handle({ type: 'connected' }, 6)[0], { type: 'advertise' });
  c.handle({ type: 'goodbye', retryAfterMs: 1_000 }, 7);
  t.deepEqual(c.handle({ type: 'servers-changed' }, 8), [], 'after goodbye');
});

// --- relay core: users-changed ---

const HOME = userRecord(['skeleton'], { serve: ['web*', 'db'] });
const ALICE = userRecord(['client'], { access: ['*'] });
const BOB = userRecord(['client'], { access: ['*'] });
const OTHER = userRecord(['skeleton'], { serve: ['*'] });

interface Relay {
  h: RelayHarness;
  home: Peer;
  alice: Peer;
  bob: Peer;
  db: Map<string, UserRecord>;
  change(edit: (db: Map<string, UserRecord>) => void): RelayCommand[];
}

/** home serves web and db; alice and bob are clients; `change` edits the users and dispatches users-changed. */
function relay(): Relay {
  const h = new RelayHarness();
  const db = new Map<string, UserRecord>([['home', HOME], ['alice', ALICE], ['bob', BOB], ['other', OTHER]]);
  const home = h.login('home', 'skeleton', HOME);
  h.advertise(home, ['web', 'db']);
  const alice = h.login('alice', 'client', ALICE);
  const bob = h.login('bob', 'client', BOB);
  const change = (edit: (d: Map<string, UserRecord>) => void): RelayCommand[] => {
    edit(db);
    return h.handle({ type: 'users-changed', lookup: (name) => db.get(name) });
  };
  return { h, home, alice, bob, db, change };
}

function closeOf(conn: number, cmds: RelayCommand[]): RelayCommand | undefined {
  return cmds.find((c) => c.type === 'close' && c.conn === conn);
}

test('relay core users-changed: a disabled skeleton account gets a sealed ERR_AUTH_FAILED and its control closes; its ids are freed and waiting clients fail at once', (t) => {
  const { h, home, alice, bob, change } = relay();
  const waiting = h.attach(alice, 'stream', { server: 'web' });
  t.is(h.take(home)[0]?.t, 'dial', 'no idle connection: alice waits on a dial');

  const cmds = change((db) => db.set('home', { ...HOME, disabled: true }));
  t.deepEqual(h.take(home), [{ t: 'error', code: 'ERR_AUTH_FAILED' }]);
  t.deepEqual(closeOf(home.conn, cmds), { type: 'close', conn: home.conn, reason: 'ERR_AUTH_FAILED' });
  t.deepEqual(plainTo(waiting.conn, cmds), [{ t: 'error', code: 'ERR_SERVER_UNREACHABLE' }], 'not after the dial timeout');
  t.true(closed(waiting.conn, cmds));
  t.false(closed(alice.conn, cmds) || closed(bob.conn, cmds), 'other accounts keep their sessions');
  t.is(h.core.state.sessions.has(home.sid), false);
  t.deepEqual(h.list(bob), []);
  // Freed: another account may claim the ids at once.
  const other = h.login('other', 'skeleton', OTHER);
  t.deepEqual(h.advertise(other, ['web', 'db']), [{ t: 'advertised', id: 1, accepted: ['web', 'db'], rejected: [] }]);
  // The adapter reporting the closed socket later changes nothing more.
  t.deepEqual(h.closeConn(home.conn), []);
});

test('relay core users-changed: a removed skeleton account, or one that lost its role, ends its session and closes its idle pool', (t) => {
  for (const edit of [(db: Map<string, UserRecord>) => db.delete('home'), (db: Map<string, UserRecord>) => db.set('home', { ...HOME, roles: ['client'] })]) {
    const { h, home, bob, change } = relay();
    const pooled = h.attach(home, 'pool').conn;
    const cmds = change(edit);
    t.deepEqual(h.take(home), [{ t: 'error', code: 'ERR_AUTH_FAILED' }]);
    t.true(closed(home.conn, cmds));
    t.true(closed(pooled, cmds), 'idle pool connection closed');
    t.deepEqual(h.list(bob), []);
    // A data connection proving the ended session is refused.
    const late = h.attach(home, 'pool');
    t.deepEqual(plainTo(late.conn, late.cmds), [{ t: 'error', code: 'ERR_AUTH_FAILED' }]);
  }
});

test('relay core users-changed: a removed client account ends its session; its later opens are refused; a stream already joined is left running', (t) => {
  const { h, home, alice, bob, change } = relay();
  const skeletonSide = h.attach(home, 'pool').conn;
  const joined = h.attach(alice, 'stream', { server: 'web' });
  t.true(joined.cmds.some((c) => c.type === 'splice'));

  const cmds = change((db) => db.delete('alice'));
  t.deepEqual(h.take(alice), [{ t: 'error', code: 'ERR_AUTH_FAILED' }]);
  t.true(closed(alice.conn, cmds));
  // Documented behaviour: the running stream is not cut.
  t.false(closed(joined.conn, cmds) || closed(skeletonSide, cmds), 'the spliced stream keeps running');
  const later = h.attach(alice, 'stream', { server: 'web' });
  t.deepEqual(plainTo(later.conn, later.cmds), [{ t: 'error', code: 'ERR_AUTH_FAILED' }]);
  t.false(closed(home.conn, cmds) || closed(bob.conn, cmds));
  t.deepEqual(h.list(bob), ['db', 'web']);
  // When the stream ends later, nothing breaks.
  t.deepEqual(h.closeConn(joined.conn), []);
});

test('relay core users-changed: narrower serve patterns withdraw ids at once and keep the session and its other ids', (t) => {
  const { h, home, bob, change } = relay();
  const cmds = change((db) => db.set('home', { ...HOME, serve: ['web*'] }));
  t.deepEqual(cmds, [], 'nothing is sent or closed');
  t.deepEqual(h.list(bob), ['web'], 'db withdrawn');
  t.deepEqual(h.advertise(home, ['web', 'db']), [{ t: 'advertised', id: 1, accepted: ['web'], rejected: [{ id: 'db', code: 'ERR_SERVER_ID_NOT_ALLOWED' }] }]);
  const other = h.login('other', 'skeleton', OTHER);
  t.deepEqual(h.advertise(other, ['db']), [{ t: 'advertised', id: 1, accepted: ['db'], rejected: [] }], 'db is free for others');
});

test('relay core users-changed: narrower access applies to the next list and open of a live client session', (t) => {
  const { h, alice, bob, change } = relay();
  t.deepEqual(change((db) => db.set('alice', { ...ALICE, access: ['db'] })), []);
  t.deepEqual(h.list(alice), ['db']);
  const open = h.attach(alice, 'stream', { server: 'web' });
  t.deepEqual(plainTo(open.conn, open.cmds), [{ t: 'error', code: 'ERR_UNKNOWN_SERVER' }], 'same answer as an unknown id (S11)');
  t.deepEqual(h.list(bob), ['db', 'web']);
});

test('relay core users-changed: a new password, or no change at all, ends nothing', (t) => {
  const { h, home, alice, bob, change } = relay();
  t.deepEqual(change(() => undefined), []);
  t.deepEqual(change((db) => db.set('alice', { ...ALICE, hash: '$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdG5ld3NhbHQ$bmV3aGFzaG5ld2hhc2huZXdoYXNo' })), []);
  t.is(h.core.state.sessions.size, 3);
  t.deepEqual(h.list(alice), ['db', 'web']);
  t.deepEqual([...h.take(home), ...h.take(bob)], []);
});

// --- relay core: shutdown ---

test('relay core shutdown: every session hears Goodbye, waiting clients fail, idle connections close, joined streams drain', (t) => {
  const { h, home, alice, bob } = relay();
  const skeletonSide = h.attach(home, 'pool').conn;
  const joined = h.attach(alice, 'stream', { server: 'web' });
  t.true(joined.cmds.some((c) => c.type === 'splice'));
  const waiting = h.attach(bob, 'stream', { server: 'db' });
  t.is(h.take(home).at(-1)?.t, 'dial', 'bob waits on a dial');
  const other = h.login('other', 'skeleton', OTHER);
  h.advertise(other, ['files']);
  const idle = h.attach(other, 'pool').conn;

  const cmds = h.core.shutdown(7);
  for (const peer of [home, alice, bob, other]) {
    const sealed = cmds.flatMap((c) => (c.type === 'send' && c.conn === peer.conn ? [c.frame] : []));
    t.deepEqual(sealed.map((f) => parseRelayControl(decodeBody(peer.opener.open(f.subarray(4))))), [{ t: 'goodbye', retryAfter: 7 }], peer.user);
    t.deepEqual(closeOf(peer.conn, cmds), { type: 'close', conn: peer.conn, reason: 'ERR_SHUTTING_DOWN' }, peer.user);
  }
  t.deepEqual(plainTo(waiting.conn, cmds), [{ t: 'error', code: 'ERR_SERVER_UNREACHABLE' }]);
  t.true(closed(waiting.conn, cmds));
  t.true(closed(idle, cmds), 'idle pooled connection closed');
  t.false(closed(joined.conn, cmds) || closed(skeletonSide, cmds), 'the joined stream is left to drain');
  // A connection arriving now is refused at once.
  const late = h.handle({ type: 'opened', conn: 999, port: 'client', source: '192.0.2.9' });
  t.deepEqual(plainTo(999, late), [{ t: 'error', code: 'ERR_SHUTTING_DOWN' }]);
  t.true(closed(999, late));
});
