/**
 * S6 across a cluster: failed logins at one relay count at the others, so guessing cannot be spread over
 * the relays of a cluster to multiply the rate a source address is allowed.
 */
import test from 'ava';
import { connect } from '../../client/index.js';
import { Redacted } from '../../shared/redacted.js';
import { startClusterWorld } from '../helpers/cluster-world.js';
import { PASSWORD } from '../helpers/world.js';

test('S6: failed logins at relay A of a cluster throttle the same source at relay B', async (t) => {
  const w = await startClusterWorld(t, 2);
  const [a, b] = [w.relays[0]!, w.relays[1]!];
  let heard = 0;
  const threeHeard = new Promise<void>((resolve) => b.relay.cluster!.link.on('penalty', () => ++heard === 3 && resolve()));
  for (let i = 0; i < 3; i++) {
    await t.throwsAsync(connect({ relay: a.clientTarget, user: 'alice', password: new Redacted('wrong guess') }), { code: 'ERR_AUTH_FAILED' } as never);
  }
  await threeHeard;
  // The right password, at the other relay, from the same (now penalised) address.
  await t.throwsAsync(connect({ relay: b.clientTarget, user: 'alice', password: new Redacted(PASSWORD) }), { code: 'ERR_THROTTLED' } as never);
});
