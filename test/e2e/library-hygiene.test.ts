/**
 * Library hygiene (issue 14): a relay whose start fails half-way (its admin port is taken) releases what
 * it had started, and a skeleton's start waiting for a relay that is not there can be cancelled and keeps
 * no timer alive meanwhile. Serial: both count this worker's active handles.
 */
import test from 'ava';
import { join } from 'node:path';
import { startRelay } from '../../relay/index.js';
import { generateRelayKeys } from '../../shared/crypto/relay-key-files.js';
import { Redacted } from '../../shared/redacted.js';
import { startSkeleton } from '../../skeleton/index.js';
import { listen } from '../helpers/loopback.js';
import { LogWatch } from '../helpers/security-log.js';
import { DEFAULT_USERS, newSecret, PASSWORD, server, tempDir, writeUsers } from '../helpers/world.js';

const count = (kind: string): number => process.getActiveResourcesInfo().filter((r) => r === kind).length;

/**
 * Resolves once `kind` handles are down to `n`: a closed server's handle is freed a few loop turns after
 * its close callback, so this watches the state turn by turn (bounded), rather than sleeping.
 */
async function handlesDownTo(kind: string, n: number, turns = 2_000): Promise<number> {
  for (let i = 0; i < turns && count(kind) > n; i++) await new Promise((resolve) => setTimeout(resolve, 1));
  return count(kind);
}

test.serial('startRelay with its admin port taken fails with ERR_LISTEN and leaves no port listening', async (t) => {
  const dir = await tempDir(t);
  const identity = await generateRelayKeys(join(dir, 'keys'));
  const usersFile = join(dir, 'users.json');
  await writeUsers(usersFile, DEFAULT_USERS);
  const taken = await listen(t, (socket) => socket.destroy());
  const listening = count('TCPServerWrap');
  await t.throwsAsync(startRelay({ host: '127.0.0.1', clientPort: 0, skeletonPort: 0, admin: { host: '127.0.0.1', port: taken }, identity, usersFile }), { code: 'ERR_LISTEN' } as never);
  t.is(await handlesDownTo('TCPServerWrap', listening), listening, 'the client and skeleton ports it had opened are closed again');
});

test.serial('a skeleton start waiting for a relay that is not there keeps no timer alive and can be cancelled', async (t) => {
  const relay = await listen(t, (socket) => socket.destroy()); // accepts, then drops every connection
  const watch = new LogWatch('skeleton');
  const timers = count('Timeout');
  const abort = new AbortController();
  const starting = startSkeleton({
    relay: { host: '127.0.0.1', port: relay, fingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, user: 'home', password: new Redacted(PASSWORD),
    servers: [server('echo', 1, newSecret())], log: watch.log, signal: abort.signal,
  });
  await watch.waitFor((r) => r.msg === 'reconnecting to relay');
  t.is(count('Timeout'), timers, 'the wait before the next attempt holds no process open');
  abort.abort();
  await t.throwsAsync(starting, { code: 'ERR_CONNECTION_CLOSED' } as never);
  const attempts = watch.count('relay connection failed');
  t.true(attempts >= 1);
  t.is(count('Timeout'), timers);
});
