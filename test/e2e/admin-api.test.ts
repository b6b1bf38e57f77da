import test from 'ava';
import { randomBytes } from 'node:crypto';
import { readFile, rename } from 'node:fs/promises';
import { once } from 'node:events';
import { request } from 'node:http';
import { join } from 'node:path';
import { connect } from '../../client/index.js';
import type { StreamAudit } from '../../relay/index.js';
import { Redacted } from '../../shared/redacted.js';
import { adminRequest, metric } from '../helpers/admin.js';
import { runCli } from '../helpers/cli-process.js';
import { received, sendAndCollect } from '../helpers/streams.js';
import { connectTestClient, echoServer, tempDir, newSecret, PASSWORD, server, startTestSkeleton, startWorld, type World } from '../helpers/world.js';

const TOKEN = 'admin-token-' + randomBytes(16).toString('base64url');
const codeOf = (err: unknown): unknown => (err as { code?: unknown } | undefined)?.code;

async function echoWorld(t: Parameters<typeof startWorld>[0], relay: Parameters<typeof startWorld>[1] = {}) {
  const world = await startWorld(t, relay);
  const echo = await echoServer(t);
  const secret = newSecret();
  await startTestSkeleton(t, world, [server('echo', echo.port, secret, { description: 'an echo', protocol: 'echo' })]);
  return { world, secret };
}

/** Opens a stream and waits until bytes went through both ways: it is joined and spliced. */
async function runningStream(world: World, secret: Redacted<Buffer>, t: Parameters<typeof startWorld>[0]) {
  const client = await connectTestClient(t, world);
  const stream = await client.open('echo', { secret });
  const echoed = received(stream, 1000);
  stream.write(randomBytes(1000));
  await echoed;
  return { client, stream };
}

test('without a token every route answers; with one, only /healthz, the well-known files and the page do', async (t) => {
  const open = await startWorld(t);
  t.is((await adminRequest(open, '/api/servers')).status, 200);
  t.is((await adminRequest(open, '/metrics')).status, 200);

  const world = await startWorld(t, { relay: { adminToken: TOKEN } });
  for (const path of ['/api/servers', '/api/sessions', '/api/streams', '/api/overview', '/api/failed-logins', '/metrics']) {
    const missing = await adminRequest(world, path);
    t.is(missing.status, 401, path);
    t.deepEqual((missing.json() as { error: { code: string } }).error.code, 'ERR_AUTH_FAILED');
    t.is(missing.headers.get('www-authenticate'), 'Bearer realm="burrow-admin"');
    t.is((await adminRequest(world, path, { token: TOKEN + 'x' })).status, 401, `${path} with a wrong token`);
    t.is((await adminRequest(world, path, { token: TOKEN.slice(0, -1) })).status, 401, `${path} with a prefix of the token`);
    t.is((await adminRequest(world, path, { token: TOKEN })).status, 200, `${path} with the token`);
  }
  t.is((await adminRequest(world, '/api/sessions/x/disconnect', { method: 'POST' })).status, 401);
  t.deepEqual((await adminRequest(world, '/healthz')).json(), { status: 'ok' });
  t.deepEqual((await adminRequest(world, '/.well-known/burrow/relay.pub.jwk')).json(), world.identity.publicJwk);
  t.deepEqual((await adminRequest(world, '/.well-known/burrow/relay.json')).json(), {
    fingerprint: world.identity.fingerprint, clientPort: world.relay.addresses.client.port, skeletonPort: world.relay.addresses.skeleton.port, protocolVersion: 1,
  });
  const page = await adminRequest(world, '/');
  t.is(page.status, 200);
  t.regex(page.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'sha256-/);
  t.false(page.text.includes(TOKEN));
  t.is((await adminRequest(world, '/nothing', { token: TOKEN })).status, 404);
});

test('admin off loopback without a token is refused at start, naming the options; with a token it starts', async (t) => {
  const err = await t.throwsAsync(startWorld(t, { relay: { admin: { host: '0.0.0.0', port: 0 } } }));
  t.is(codeOf(err), 'ERR_CONFIG');
  t.regex(err?.message ?? '', /--admin .*--admin-token-file/);
  const world = await startWorld(t, { relay: { admin: { host: '0.0.0.0', port: 0 }, adminToken: TOKEN } });
  t.is((await adminRequest(world, '/api/servers', { token: TOKEN })).status, 200);

  const cli = await runCli(['relay', '--host', '127.0.0.1', '--client-port', '0', '--skeleton-port', '0', '--admin', '0.0.0.0:0', '--keys', world.keysDir, '--users', world.usersFile]);
  t.is(cli.code, 2, cli.stderr);
  t.regex(cli.stderr, /--admin 0\.0\.0\.0:0 is not a loopback address: give --admin-token-file/);
});

test('a rebinding Host and a cross-site POST are refused when no token guards the admin HTTP', async (t) => {
  const world = await startWorld(t);
  // fetch will not send a foreign Host header; node:http will, as a rebinding browser would.
  const port = world.relay.admin?.address.port;
  const status = await new Promise<number | undefined>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/api/servers', headers: { Host: 'attacker.example' } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    }).on('error', reject).end();
  });
  t.is(status, 403);
  t.is((await adminRequest(world, '/api/sessions/x/disconnect', { method: 'POST', headers: { Origin: 'http://attacker.example' } })).status, 403);
  t.is((await adminRequest(world, '/api/sessions/x/disconnect', { method: 'POST' })).status, 404);
});

test('metrics count logins by reason, streams, bytes and dial latency exactly; the failed login is listed without its password', async (t) => {
  // One failed login is enough to penalise the source here, so the wrong password comes last.
  const { world, secret } = await echoWorld(t, { relay: { guard: { penaltyMinMs: 5_000 } } });
  const client = await connectTestClient(t, world);
  const closed = once(world.relay.runtime, 'stream-closed') as Promise<[StreamAudit]>;
  const payload = randomBytes(100_000);
  t.is((await sendAndCollect(await client.open('echo', { secret }), payload)).length, payload.length);
  const [audit] = await closed;
  const wrong = 'not-the-password-' + randomBytes(6).toString('hex');
  t.is(codeOf(await t.throwsAsync(connect({ relay: world.clientTarget, user: 'alice', password: new Redacted(wrong) }))), 'ERR_AUTH_FAILED');

  const text = (await adminRequest(world, '/metrics')).text;
  t.is(metric(text, 'burrow_login_successes_total'), 2);
  t.is(metric(text, 'burrow_login_successes_total', { role: 'client' }), 1);
  t.is(metric(text, 'burrow_login_successes_total', { role: 'skeleton' }), 1);
  t.is(metric(text, 'burrow_login_failures_total'), 1);
  t.is(metric(text, 'burrow_login_failures_total', { role: 'client', reason: 'bad_password' }), 1);
  t.is(metric(text, 'burrow_streams_total'), 1);
  t.is(metric(text, 'burrow_streams_active'), 0);
  t.is(metric(text, 'burrow_streams_closed_total', { reason: 'ok' }), 1);
  t.is(metric(text, 'burrow_dial_latency_seconds_count'), 1);
  t.is(metric(text, 'burrow_sessions_active', { role: 'client' }), 1);
  t.is(metric(text, 'burrow_skeletons_connected'), 1);
  t.is(metric(text, 'burrow_servers_advertised'), 1);
  t.is(metric(text, 'burrow_penalised_sources'), 1);
  t.not(metric(text, 'burrow_pool_idle_connections'), undefined);
  t.true((metric(text, 'burrow_process_cpu_seconds_total') ?? -1) >= 0, 'process metrics come along');
  // The relay counts what it spliced: the ciphertext of the payload, a little more than the payload itself.
  t.is(metric(text, 'burrow_stream_bytes_total', { direction: 'client_to_server' }), audit.bytesClientToServer);
  t.is(metric(text, 'burrow_stream_bytes_total', { direction: 'server_to_client' }), audit.bytesServerToClient);
  for (const bytes of [audit.bytesClientToServer, audit.bytesServerToClient]) t.true(bytes > payload.length && bytes < payload.length + 4096, String(bytes));
  t.false(text.includes(wrong) || text.includes(PASSWORD));

  const failed = (await adminRequest(world, '/api/failed-logins')).json() as { failedLogins: { user: string; role: string; reason: string; time: string }[] };
  t.is(failed.failedLogins.length, 1);
  t.like(failed.failedLogins[0], { user: 'alice', role: 'client', reason: 'bad-password' });
  t.false(JSON.stringify(failed).includes(wrong));
});

test('servers and live streams are listed (no addresses); disconnect ends a session; disable ends the account\'s sessions and its next login fails', async (t) => {
  const { world, secret } = await echoWorld(t);
  const { stream } = await runningStream(world, secret, t);
  const servers = await adminRequest(world, '/api/servers');
  t.like((servers.json() as { servers: object[] }).servers, [{ id: 'echo', account: 'home', protocol: 'echo', description: 'an echo' }]);
  const streams = await adminRequest(world, '/api/streams');
  const [live] = (streams.json() as { streams: { id: number; server: string; clientAccount: string; bytesClientToServer: number; bytesServerToClient: number }[] }).streams;
  t.like(live, { server: 'echo', clientAccount: 'alice' });
  t.true((live?.bytesClientToServer ?? 0) > 1000 && (live?.bytesServerToClient ?? 0) > 1000);
  for (const reply of [servers, streams, await adminRequest(world, '/api/sessions'), await adminRequest(world, '/api/overview')]) t.false(reply.text.includes('127.0.0.1'));

  type Sessions = { sessions: { id: string; account: string; role: string; streams: number }[] };
  const sessions = async (): Promise<Sessions['sessions']> => ((await adminRequest(world, '/api/sessions')).json() as Sessions).sessions;
  const alice = (await sessions()).find((s) => s.account === 'alice');
  t.like(alice, { role: 'client', streams: 1 });
  t.is((await adminRequest(world, `/api/sessions/${alice?.id ?? ''}/disconnect`, { method: 'POST' })).status, 200);
  t.false((await sessions()).some((s) => s.id === alice?.id));
  t.is((await adminRequest(world, `/api/sessions/${alice?.id ?? ''}/disconnect`, { method: 'POST' })).status, 404);
  // A disconnected client logs in again on demand; a disabled one cannot.
  const again = await connectTestClient(t, world);
  t.true((await sessions()).some((s) => s.account === 'alice'));
  t.deepEqual((await adminRequest(world, '/api/users/alice/disable', { method: 'POST' })).json(), { user: 'alice', disabled: true, changed: true });
  t.false((await sessions()).some((s) => s.account === 'alice'));
  t.true((await sessions()).some((s) => s.account === 'home'));
  const file = JSON.parse(await readFile(world.usersFile, 'utf8')) as { users: Record<string, { disabled: boolean }> };
  t.true(file.users.alice?.disabled);
  t.is(codeOf(await t.throwsAsync(connect({ relay: world.clientTarget, user: 'alice', password: new Redacted(PASSWORD) }))), 'ERR_AUTH_FAILED');
  t.is(metric((await adminRequest(world, '/metrics')).text, 'burrow_login_failures_total', { role: 'client', reason: 'disabled' }), 1);
  t.is((await adminRequest(world, '/api/users/nobody/disable', { method: 'POST' })).status, 404);
  again.close();

  // The operator can cut the stream that outlived its session.
  const closed = once(world.relay.runtime, 'stream-closed') as Promise<[StreamAudit]>;
  const cut = once(stream, 'error') as Promise<[unknown]>;
  t.is((await adminRequest(world, `/api/streams/${live?.id ?? 0}/close`, { method: 'POST' })).status, 200);
  t.is((await closed)[0].reason, 'operator');
  t.is(codeOf((await cut)[0]), 'ERR_STREAM_TRUNCATED', 'the client sees its stream cut, not ended');
});

test('the audit log has one line per stream with its bytes and no address; it is reopened after logrotate', async (t) => {
  const dir = await tempDir(t);
  t.is(codeOf(await t.throwsAsync(startWorld(t, { relay: { auditLog: join(dir, 'missing', 'audit.jsonl') } }))), 'ERR_CONFIG');
  const path = join(dir, 'audit.jsonl');
  const w = await echoWorld(t, { relay: { auditLog: path } });
  const client = await connectTestClient(t, w.world);
  const streamOnce = async (size: number): Promise<StreamAudit> => {
    const closed = once(w.world.relay.runtime, 'stream-closed') as Promise<[StreamAudit]>;
    await sendAndCollect(await client.open('echo', { secret: w.secret }), randomBytes(size));
    return (await closed)[0];
  };
  const first = await streamOnce(50_000);
  await rename(path, path + '.1');
  await w.world.relay.reopenAuditLog();
  const second = await streamOnce(20_000);
  await w.world.relay.close({ drainMs: 0 });

  const lines = async (p: string) => (await readFile(p, 'utf8')).trim().split('\n');
  const [old, fresh] = [await lines(path + '.1'), await lines(path)];
  t.is(old.length, 1);
  t.is(fresh.length, 1);
  for (const [text, audit] of [[old[0] ?? '', first], [fresh[0] ?? '', second]] as const) {
    const line = JSON.parse(text) as Record<string, unknown>;
    t.like(line, { type: 'stream', account: 'alice', server: 'echo', bytesClientToServer: audit.bytesClientToServer, bytesServerToClient: audit.bytesServerToClient, reason: 'ok' });
    t.true(Date.parse(line.start as string) <= Date.parse(line.end as string));
    t.false(/127\.0\.0\.1|::1|localhost/.test(text), text);
    t.false(text.includes(PASSWORD));
  }
  t.true(first.bytesClientToServer > 50_000 && second.bytesClientToServer > 20_000);
});
