/**
 * Shared revocations: an account disabled in one relay's users file is refused on every relay of the
 * cluster, and its sessions there end; re-enabled, it may log in again everywhere.
 */
import test from 'ava';
import { connect } from '../../client/index.js';
import { setUserDisabled } from '../../relay/users/set-disabled.js';
import { Redacted } from '../../shared/redacted.js';
import { startClusterWorld } from '../helpers/cluster-world.js';
import { PASSWORD } from '../helpers/world.js';

function revokedUntil(link: NodeJS.EventEmitter, test: (users: string[]) => boolean): Promise<void> {
  return new Promise((resolve) => {
    const listener = (users: string[]): void => {
      if (!test(users)) return;
      link.off('revoked', listener);
      resolve();
    };
    link.on('revoked', listener);
  });
}

test('a user disabled on one relay is refused on all, and its sessions elsewhere end', async (t) => {
  const w = await startClusterWorld(t, 3);
  const [a, b, c] = [w.relays[0]!, w.relays[1]!, w.relays[2]!];
  const login = (target: typeof a.clientTarget) => connect({ relay: target, user: 'alice', password: new Redacted(PASSWORD) });
  const onB = await login(b.clientTarget);
  t.teardown(() => onB.close());
  t.deepEqual(await onB.list(), []);
  const aliceOn = (r: typeof a): boolean => [...r.relay.runtime.core.state.sessions.values()].some((s) => s.user === 'alice');
  t.true(aliceOn(b));
  const heard = [b, c].map((r) => revokedUntil(r.relay.cluster!.link, (users) => users.includes('alice')));
  t.is(await setUserDisabled(a.usersFile, 'alice', true), 'changed');
  await a.relay.reloadUsers();
  await Promise.all(heard);
  // B ended alice's session as it heard the revocation; the other relays refuse her logins. (Two refusals
  // only: each counts as a failed login on every relay, and a third would throttle this address.)
  t.false(aliceOn(b));
  for (const r of [b, c]) await t.throwsAsync(login(r.clientTarget), { code: 'ERR_AUTH_FAILED' } as never);

  const lifted = [b, c].map((r) => revokedUntil(r.relay.cluster!.link, (users) => !users.includes('alice')));
  await setUserDisabled(a.usersFile, 'alice', false);
  await a.relay.reloadUsers();
  await Promise.all(lifted);
  const again = await login(c.clientTarget);
  t.teardown(() => again.close());
  t.deepEqual(await again.list(), []);
});
