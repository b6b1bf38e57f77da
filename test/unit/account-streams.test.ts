/**
 * Outside attack M1 (every size a peer can drive): one account's streams are bounded over all its
 * sessions (32 sessions x 1024 streams was 65,536 sockets, the relay's whole descriptor budget), and so
 * are its streams waiting for a dial (each holds its client's connection and early bytes). The counts go
 * back to zero as streams end, whether or not their session is still there.
 */
import test from 'ava';
import { plainTo, RelayHarness, userRecord } from '../helpers/unit-relay.js';

const SKELETON = userRecord(['skeleton'], { serve: ['*'] });
const CLIENT = userRecord(['client'], { access: ['*'] });

test('an account gets maxStreamsPerUser streams over all its sessions and maxWaitingPerUser waiting for dials; ERR_LIMIT beyond, and the counts return to zero', (t) => {
  const h = new RelayHarness({ maxStreamsPerUser: 3, maxWaitingPerUser: 2 });
  const home = h.login('home', 'skeleton', SKELETON);
  h.advertise(home, ['web']);
  const [one, two] = [h.login('carol', 'client', CLIENT), h.login('carol', 'client', CLIENT)];
  const open = (peer: typeof one) => {
    const { conn, cmds } = h.attach(peer, 'stream', { server: 'web' });
    return { conn, answer: plainTo(conn, cmds)[0] };
  };
  // No idle skeleton connection: each stream waits for a dial.
  const a = open(one);
  const b = open(two);
  t.is(a.answer, undefined, 'waiting');
  t.is(b.answer, undefined, 'waiting');
  t.deepEqual(open(one).answer, { t: 'error', code: 'ERR_LIMIT' }, 'a third waiting stream of the account, from either session');
  t.is(h.core.state.dials.waitingOf('carol'), 2);
  // The skeleton's fresh connection joins the oldest waiting stream (a): b waits, a third (c) may too.
  h.attach(home, 'pool');
  t.is(h.core.state.dials.waitingOf('carol'), 1);
  const c = open(two);
  t.is(c.answer, undefined, 'a third stream may wait');
  t.deepEqual(open(one).answer, { t: 'error', code: 'ERR_LIMIT' }, 'a fourth stream of the account');
  t.is(h.core.state.streamsOf('carol'), 3);
  // Session one ends: its joined stream runs on and still counts against the account.
  h.closeConn(one.conn);
  t.is(h.core.state.streamsOf('carol'), 3);
  // b gives up waiting, a ends, and session two ends (c with it): nothing counts any more.
  h.closeConn(b.conn);
  t.deepEqual([h.core.state.dials.waitingOf('carol'), h.core.state.streamsOf('carol')], [1, 2]);
  h.closeConn(a.conn);
  t.is(h.core.state.streamsOf('carol'), 1);
  h.closeConn(two.conn);
  t.deepEqual([h.core.state.dials.waitingOf('carol'), h.core.state.streamsOf('carol')], [0, 0]);
  // Another account is not affected by carol's use.
  const dave = h.login('dave', 'client', CLIENT);
  t.is(open(dave).answer, undefined);
  t.deepEqual(h.take(home).map((m) => m.t), ['dial', 'dial', 'dial', 'dial'], 'one dial per stream that waited (a, b, c, dave), none for a refused one');
  t.deepEqual(h.unread(), [], 'no message to any peer left unasserted');
});
