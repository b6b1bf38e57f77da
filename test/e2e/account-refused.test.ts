/** A skeleton whose account is disabled stops with a clear error instead of knocking forever. */
import test from 'ava';
import { once } from 'node:events';
import type { BurrowError } from '../../shared/errors.js';
import { echoServer, newSecret, server, startTestSkeleton, startWorld, writeUsers, DEFAULT_USERS } from '../helpers/world.js';

test('a skeleton whose account is disabled while it runs stops with ERR_AUTH_FAILED and frees its ids', async (t) => {
  const world = await startWorld(t);
  const echo = await echoServer(t);
  const skeleton = await startTestSkeleton(t, world, [server('echo', echo.port, newSecret())]);
  t.truthy(world.relay.runtime.core.state.registry.get('echo'));
  const fatal = once(skeleton.runtime, 'fatal') as Promise<[BurrowError]>;
  // Rewriting the users file is what `burrow users disable home` does; the relay watches it.
  await writeUsers(world.usersFile, { ...DEFAULT_USERS, home: { ...DEFAULT_USERS.home!, disabled: true } });
  const [err] = await fatal;
  t.is(err.code, 'ERR_AUTH_FAILED');
  t.is(world.relay.runtime.core.state.registry.get('echo'), undefined);
});
