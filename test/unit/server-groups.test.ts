/**
 * Two skeletons, one id (issue 14), in the relay core with no network: sessions of one account that
 * advertise an id with different instance tokens serve it as a group (new streams in turn, an idle
 * pooled connection first), and when one leaves the other goes on serving. The same instance logging in
 * again takes the id over from its stale session, which is told; another account is refused (S9).
 */
import test from 'ava';
import type { RelayCommand } from '../../relay/core/relay-events.js';
import { RelayHarness, userRecord, type Peer } from '../helpers/unit-relay.js';

const SKELETON = userRecord(['skeleton'], { serve: ['*'] });
const CLIENT = userRecord(['client'], { access: ['*'] });

function advertise(h: RelayHarness, peer: Peer, instance?: string) {
  h.control(peer, { t: 'advertise', id: 1, servers: [{ id: 'web', description: 'web', protocol: 'http' }], ...(instance ? { instance } : {}) });
  return h.take(peer);
}

/** A relay core with two skeleton sessions of account home and one client session. */
function world(): { h: RelayHarness; a: Peer; b: Peer; carol: Peer } {
  const h = new RelayHarness();
  return { h, a: h.login('home', 'skeleton', SKELETON), b: h.login('home', 'skeleton', SKELETON), carol: h.login('carol', 'client', CLIENT) };
}

/** The skeleton connection a client stream was joined to, if it was. */
function splicedTo(cmds: RelayCommand[]): number | undefined {
  const splice = cmds.find((c) => c.type === 'splice');
  return splice?.type === 'splice' ? splice.skeleton : undefined;
}

test('two skeletons of one account serve one id: both accepted, listed once, streams in turn; when one leaves the other keeps serving', (t) => {
  const { h, a, b, carol } = world();
  t.like(advertise(h, a, 'instance-a')[0], { t: 'advertised', accepted: ['web'], rejected: [] });
  t.like(advertise(h, b, 'instance-b')[0], { t: 'advertised', accepted: ['web'], rejected: [] });
  t.deepEqual(h.list(carol), ['web']);
  t.deepEqual(h.take(a), [], 'nobody was displaced');

  const pools = [h.attach(a, 'pool').conn, h.attach(a, 'pool').conn, h.attach(b, 'pool').conn, h.attach(b, 'pool').conn];
  const joined = [0, 1, 2, 3].map(() => splicedTo(h.attach(carol, 'stream', { server: 'web' }).cmds));
  const bySession = joined.map((conn) => (conn === pools[0] || conn === pools[1] ? 'a' : conn === pools[2] || conn === pools[3] ? 'b' : '?'));
  t.deepEqual(bySession, ['a', 'b', 'a', 'b'], 'new streams spread across the group');

  h.closeConn(b.conn);
  t.deepEqual(h.list(carol), ['web'], 'the id outlives the member that left');
  const stream = h.attach(carol, 'stream', { server: 'web' });
  t.true(stream.cmds.some((c) => c.type === 'hold'), 'waits for a dial');
  t.like(h.take(a).find((m) => m.t === 'dial'), { t: 'dial', server: 'web' }, 'the remaining skeleton is asked to dial');
  t.deepEqual(h.unread(), [], 'no message to anyone left unasserted');
});

test('an idle pooled connection wins over the turn', (t) => {
  const { h, a, b, carol } = world();
  advertise(h, a, 'instance-a');
  advertise(h, b, 'instance-b');
  const pooled = h.attach(b, 'pool').conn;
  t.is(splicedTo(h.attach(carol, 'stream', { server: 'web' }).cmds), pooled, "a's turn, but only b has an idle connection");
  t.deepEqual(h.take(a).filter((m) => m.t === 'dial'), []);
  t.deepEqual(h.unread(), [], 'no message to anyone left unasserted');
});

test('the same instance logging in again takes the id over from its stale session at once, and the stale one is told', (t) => {
  const { h, a: stale, b: fresh, carol } = world();
  advertise(h, stale, 'same');
  t.like(advertise(h, fresh, 'same')[0], { t: 'advertised', accepted: ['web'] });
  t.deepEqual(h.take(stale), [{ t: 'withdrawn', servers: ['web'], code: 'ERR_SERVER_ID_TAKEN' }]);
  h.attach(stale, 'pool');
  h.attach(carol, 'stream', { server: 'web' });
  t.like(h.take(fresh).find((m) => m.t === 'dial'), { t: 'dial', server: 'web' }, "streams go to the new session only, not to the stale one's pool");
  // Skeletons that send no instance take over as before groups.
  const legacy = h.login('home', 'skeleton', SKELETON);
  const legacy2 = h.login('home', 'skeleton', SKELETON);
  h.control(legacy, { t: 'advertise', id: 1, servers: [{ id: 'old', description: '', protocol: 'tcp' }] });
  h.control(legacy2, { t: 'advertise', id: 1, servers: [{ id: 'old', description: '', protocol: 'tcp' }] });
  t.deepEqual(h.take(legacy).filter((m) => m.t === 'withdrawn'), [{ t: 'withdrawn', servers: ['old'], code: 'ERR_SERVER_ID_TAKEN' }]);
  h.take(legacy2);
  t.deepEqual(h.unread(), [], 'no message to anyone left unasserted');
});

test('a displaced session asking again with yield does not take the id back while the other holds it, and gets it once that one has left', (t) => {
  const { h, a: first, b: second } = world();
  advertise(h, first, 'same');
  advertise(h, second, 'same');
  t.deepEqual(h.take(first), [{ t: 'withdrawn', servers: ['web'], code: 'ERR_SERVER_ID_TAKEN' }]);
  const again = () => {
    h.control(first, { t: 'advertise', id: 2, servers: [{ id: 'web', description: 'web', protocol: 'http' }], instance: 'same', yield: true });
    return h.take(first);
  };
  t.deepEqual(again(), [{ t: 'advertised', id: 2, accepted: [], rejected: [{ id: 'web', code: 'ERR_SERVER_ID_TAKEN' }] }]);
  t.deepEqual(h.take(second), [], 'the holder is not displaced');
  h.closeConn(second.conn);
  t.like(again()[0], { t: 'advertised', accepted: ['web'], rejected: [] });
  t.deepEqual(h.unread(), [], 'no message to anyone left unasserted');
});

test('S9 still: another account cannot join the group', (t) => {
  const h = new RelayHarness();
  const home = h.login('home', 'skeleton', SKELETON);
  const mallory = h.login('mallory', 'skeleton', SKELETON);
  advertise(h, home, 'instance-a');
  t.like(advertise(h, mallory, 'instance-m')[0], { t: 'advertised', accepted: [], rejected: [{ id: 'web', code: 'ERR_SERVER_ID_TAKEN' }] });
});
