/**
 * Shared accounts: a change made with `burrow users` in one relay's users file is in force on every relay
 * of the cluster (added, password changed, removed), because each relay publishes its records signed with
 * the relay identity key and every relay verifies them.
 */
import test from 'ava';
import { once } from 'node:events';
import { connect } from '../../client/index.js';
import { Redacted } from '../../shared/redacted.js';
import { startClusterWorld, type ClusterRelay } from '../helpers/cluster-world.js';
import { burrowUsers, usersUntil } from '../helpers/cluster-users.js';

const login = (r: ClusterRelay, user: string, password: string) => connect({ relay: r.clientTarget, user, password: new Redacted(password) });

test('an account added on relay A logs in at B; a password changed on A changes it at B; removed on A, it is refused at B', async (t) => {
  const w = await startClusterWorld(t, 2);
  const [a, b] = [w.relays[0]!, w.relays[1]!];
  const bLink = b.relay.cluster!.link;

  let heard = usersUntil(bLink, (db) => db.has('carol'));
  await burrowUsers(w.dir, a.usersFile, ['add', 'carol', '--role', 'client', '--access', '*'], 'first password');
  await a.relay.reloadUsers();
  await heard;
  const first = await login(b, 'carol', 'first password');
  t.deepEqual(await first.list(), []);
  first.close();

  const before = (await b.relay.cluster!.link.usersOverlay.view()).get('carol')?.hash;
  heard = usersUntil(bLink, (db) => db.get('carol')?.hash !== before);
  await burrowUsers(w.dir, a.usersFile, ['passwd', 'carol'], 'second password');
  await a.relay.reloadUsers();
  await heard;
  await t.throwsAsync(login(b, 'carol', 'first password'), { code: 'ERR_AUTH_FAILED' } as never);
  const second = await login(b, 'carol', 'second password');
  t.deepEqual(await second.list(), []);

  // Removal ends the session at B too, and B refuses the next login.
  heard = usersUntil(bLink, (db) => !db.has('carol'));
  await burrowUsers(w.dir, a.usersFile, ['remove', 'carol']);
  await a.relay.reloadUsers();
  await heard;
  t.false([...b.relay.runtime.core.state.sessions.values()].some((s) => s.user === 'carol'));
  second.close();
  await t.throwsAsync(login(b, 'carol', 'second password'), { code: 'ERR_AUTH_FAILED' } as never);
});

test('Redis down: a relay keeps the accounts it last knew from the cluster; back up, it catches up on changes made meanwhile', async (t) => {
  const w = await startClusterWorld(t, 2);
  const [a, b] = [w.relays[0]!, w.relays[1]!];
  const bLink = b.relay.cluster!.link;
  const heard = usersUntil(bLink, (db) => db.has('carol'));
  await burrowUsers(w.dir, a.usersFile, ['add', 'carol', '--role', 'client', '--access', '*'], 'first password');
  await a.relay.reloadUsers();
  await heard;

  await Promise.all([w.redis.stop(), once(a.relay.cluster!.link, 'down'), once(bLink, 'down')]);
  const during = await login(b, 'carol', 'first password');
  t.deepEqual(await during.list().catch((err: { code?: string }) => err.code), 'ERR_CLUSTER_UNAVAILABLE');
  during.close();
  // Changed on A while Redis is away: A publishes it when Redis returns, and B takes it.
  await burrowUsers(w.dir, a.usersFile, ['disable', 'carol']);
  await a.relay.reloadUsers();
  const disabled = usersUntil(bLink, (db) => db.get('carol')?.disabled === true);
  await w.redis.restart();
  await disabled;
  await t.throwsAsync(login(b, 'carol', 'first password'), { code: 'ERR_AUTH_FAILED' } as never);
});
