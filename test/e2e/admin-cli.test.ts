/**
 * `burrow relay` with the admin flags as a real process: --admin-token-file guards the API, the
 * startup output names the admin URL, and SIGHUP reopens --audit-log after a logrotate-style rename.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from '../../client/index.js';
import { generateRelayKeys } from '../../shared/crypto/relay-key-files.js';
import { Redacted } from '../../shared/redacted.js';
import { startSkeleton } from '../../skeleton/index.js';
import { spawnCli } from '../helpers/cli-process.js';
import { sendAndCollect } from '../helpers/streams.js';
import { DEFAULT_USERS, echoServer, newSecret, PASSWORD, server, tempDir, writeUsers } from '../helpers/world.js';

test('burrow relay: the admin token guards the API, the URL is printed, SIGHUP reopens the audit log', async (t) => {
  const dir = await tempDir(t);
  const identity = await generateRelayKeys(join(dir, 'keys'));
  await writeUsers(join(dir, 'users.json'), DEFAULT_USERS);
  const token = randomBytes(24).toString('base64url');
  await writeFile(join(dir, 'admin.token'), token + '\n', { mode: 0o600 });
  const audit = join(dir, 'audit.jsonl');
  const relay = spawnCli(t, [
    'relay', '--host', '127.0.0.1', '--client-port', '0', '--skeleton-port', '0', '--keys', 'keys', '--users', 'users.json',
    '--admin-token-file', 'admin.token', '--audit-log', audit,
  ], { cwd: dir });
  const ports = await relay.waitForLine(/^relay SHA256:\S+ clients on 127\.0\.0\.1:(\d+), skeletons on 127\.0\.0\.1:(\d+)$/);
  const [, url] = await relay.waitForLine(/^admin on (http:\/\/127\.0\.0\.1:\d+\/) /);
  t.is((await fetch(`${url}metrics`)).status, 401);
  t.is((await fetch(`${url}metrics`, { headers: { Authorization: `Bearer ${token}` } })).status, 200);
  t.deepEqual(await (await fetch(`${url}.well-known/burrow/relay.json`)).json(), {
    fingerprint: identity.fingerprint, clientPort: Number(ports[1]), skeletonPort: Number(ports[2]), protocolVersion: 1,
  });

  const echo = await echoServer(t);
  const secret = newSecret();
  const fingerprint = identity.fingerprint;
  const skeleton = await startSkeleton({
    relay: { host: '127.0.0.1', port: Number(ports[2]), fingerprint }, user: 'home', password: new Redacted(PASSWORD), servers: [server('echo', echo.port, secret)],
  });
  t.teardown(() => skeleton.close());
  const client = await connect({ relay: { host: '127.0.0.1', port: Number(ports[1]), fingerprint }, user: 'alice', password: new Redacted(PASSWORD) });
  t.teardown(() => client.close());

  let closedStreams = 0;
  const oneStream = async (size: number): Promise<void> => {
    await sendAndCollect(await client.open('echo', { secret }), randomBytes(size));
    closedStreams++;
    // The relay logs each finished stream as it writes its audit line.
    await relay.waitForLine(new RegExp(`"stream":${closedStreams},.*"msg":"stream closed"`), { stream: 'stderr' });
  };
  await oneStream(10_000);
  await rename(audit, `${audit}.1`);
  relay.child.kill('SIGHUP');
  await relay.waitForLine(/"msg":"audit log reopened"/, { stream: 'stderr' });
  await oneStream(20_000);
  t.deepEqual(await relay.stop(), { code: 0, signal: null });

  const rotated = (await readFile(`${audit}.1`, 'utf8')).trim().split('\n');
  const fresh = (await readFile(audit, 'utf8')).trim().split('\n');
  t.is(rotated.length, 1);
  t.is(fresh.length, 1);
  t.like(JSON.parse(rotated[0] ?? '{}'), { account: 'alice', server: 'echo', stream: 1, reason: 'ok' });
  t.like(JSON.parse(fresh[0] ?? '{}'), { account: 'alice', server: 'echo', stream: 2, reason: 'ok' });
  t.true((JSON.parse(fresh[0] ?? '{}') as { bytesClientToServer: number }).bytesClientToServer > 20_000);
  t.false(relay.stderr().includes(token) || relay.stdout().includes(token), 'the token is never printed');
});
