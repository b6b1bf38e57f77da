/**
 * The whole locked-down path with real programs: a relay behind a real nginx that terminates TLS with
 * the sample config (docs/examples/nginx-burrow.conf) and a throwaway CA; a skeleton behind a real
 * tinyproxy that allows CONNECT only to nginx's port and wants credentials; curl through a client
 * forwarder to a home HTTP server. Then what a TLS-inspecting proxy learns (nothing secret) and what it
 * cannot do (pass for the relay: the pin fails, exit 3).
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { generateSecret } from '../../shared/cli/secret-file.js';
import { errorCode, runCli, spawnCli } from '../helpers/cli-process.js';
import { makeCa, SAMPLE_PATH, startSampleNginx } from '../helpers/sample-nginx.js';
import { startTinyproxy } from '../helpers/tinyproxy.js';
import { startWsRecorder } from '../helpers/ws-recorder.js';
import { PASSWORD, startWorld, tempDir } from '../helpers/world.js';
import { curl } from '../helpers/curl.js';

async function homeServer(t: import('ava').ExecutionContext, body: string): Promise<number> {
  const { createServer: httpServer } = await import('node:http');
  const server = httpServer((_req, res) => res.end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return (server.address() as AddressInfo).port;
}

test('relay behind nginx (TLS), skeleton behind a CONNECT-only proxy with credentials: curl reaches the home server', async (t) => {
  const world = await startWorld(t, { relay: { wsPort: 0, wsPath: SAMPLE_PATH, wsTrustForwardedFor: true } });
  const dir = await tempDir(t);
  const ca = await makeCa(dir);
  const nginx = await startSampleNginx(t, dir, { relayPort: world.relay.addresses.ws!.port, ca });
  const proxy = await startTinyproxy(t, dir, [nginx.port]);
  const home = await homeServer(t, 'hello from home\n');
  const secretFile = join(dir, 'web.secret');
  await writeFile(secretFile, `${generateSecret().reveal()}\n`, { mode: 0o600 });
  const url = `wss://127.0.0.1:${nginx.port}${SAMPLE_PATH}`;
  const common = ['--relay', url, '--fingerprint', world.identity.fingerprint, '--relay-ca', ca.caFile];
  const skeleton = spawnCli(t, ['skeleton', ...common, '--user', 'home', '--server', `web=127.0.0.1:${home},secret-file=${secretFile}`, '--proxy', proxy.url], {
    env: { BURROW_PASSWORD: PASSWORD },
  });
  await skeleton.waitForLine(/^skeleton serving web through /);
  const client = spawnCli(t, ['client', 'connect', 'web', '--listen', '127.0.0.1:0', '--secret-file', secretFile, ...common, '--user', 'alice'], { env: { BURROW_PASSWORD: PASSWORD } });
  const forwarding = await client.waitForLine(/^forwarding 127\.0\.0\.1:(\d+) -> web /);
  t.is((await curl(`http://127.0.0.1:${forwarding[1]}/`)).stdout, 'hello from home\n');
  // The skeleton's connections went through the proxy to nginx's port, the only one it allows.
  t.true(proxy.daemon.output.some((l) => l.includes(`CONNECT 127.0.0.1:${nginx.port}`)), proxy.daemon.output.join('\n'));
  // The relay saw them come over its WebSocket endpoint, from the address nginx named.
  t.true(world.relay.runtime.snapshot().sessions.length >= 2);
});

test('a wrong path behind nginx: exit 2, not a burrow relay (nginx answers 404), no hang', async (t) => {
  const world = await startWorld(t, { relay: { wsPort: 0, wsPath: SAMPLE_PATH } });
  const dir = await tempDir(t);
  const ca = await makeCa(dir);
  const nginx = await startSampleNginx(t, dir, { relayPort: world.relay.addresses.ws!.port, ca });
  const run = await runCli(['client', 'list', '--relay', `wss://127.0.0.1:${nginx.port}/not/the/path`, '--fingerprint', world.identity.fingerprint, '--relay-ca', ca.caFile, '--user', 'alice'], {
    BURROW_PASSWORD: PASSWORD,
  });
  t.is(run.code, 2, run.stderr);
  t.is(errorCode(run.stderr), 'ERR_NOT_A_RELAY', run.stderr);
  t.true(run.stderr.includes('404'), run.stderr);
  // Without the CA the certificate is not trusted: exit 3, TLS named.
  const untrusted = await runCli(['client', 'list', '--relay', `wss://127.0.0.1:${nginx.port}${SAMPLE_PATH}`, '--fingerprint', world.identity.fingerprint, '--user', 'alice'], {
    BURROW_PASSWORD: PASSWORD,
  });
  t.is(errorCode(untrusted.stderr), 'ERR_TLS', untrusted.stderr);
  t.is(untrusted.code, 3, untrusted.stderr);
});

test('a TLS-inspecting proxy the client trusts learns no password, secret or payload, and cannot pass for the relay (exit 3)', async (t) => {
  const world = await startWorld(t, { relay: { wsPort: 0, wsPath: SAMPLE_PATH } });
  const dir = await tempDir(t);
  const ca = await makeCa(dir);
  // nginx (TLS with the inspecting CA) -> a recorder of every WebSocket message -> the relay.
  const recorder = await startWsRecorder(t, `ws://127.0.0.1:${world.relay.addresses.ws!.port}`);
  const nginx = await startSampleNginx(t, dir, { relayPort: recorder.port, ca });
  const payload = randomBytes(48).toString('hex');
  const echo = createServer((s) => { s.on('error', () => s.destroy()); s.pipe(s); });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => echo.close(() => resolve())));
  const secret = generateSecret().reveal();
  const secretFile = join(dir, 'echo.secret');
  await writeFile(secretFile, `${secret}\n`, { mode: 0o600 });
  const url = `wss://127.0.0.1:${nginx.port}${SAMPLE_PATH}`;
  const common = ['--relay', url, '--fingerprint', world.identity.fingerprint, '--relay-ca', ca.caFile];
  const skeleton = spawnCli(t, ['skeleton', ...common, '--user', 'home', '--server', `echo=127.0.0.1:${(echo.address() as AddressInfo).port},secret-file=${secretFile}`], {
    env: { BURROW_PASSWORD: PASSWORD },
  });
  await skeleton.waitForLine(/^skeleton serving echo through /);
  const stdio = await runCli(['client', 'stdio', 'echo', '--secret-file', secretFile, ...common, '--user', 'alice'], { BURROW_PASSWORD: PASSWORD }, { input: payload });
  t.is(stdio.stdout, payload, stdio.stderr);
  const seen = recorder.seen();
  t.true(seen.length > 2 * payload.length, 'the recorder carried the whole exchange');
  for (const [what, text] of [['password', PASSWORD], ['server secret', secret], ['payload', payload]] as const) {
    t.is(seen.indexOf(Buffer.from(text)), -1, `${what} visible to the proxy`);
  }
  t.is(seen.indexOf(Buffer.from(secret, 'base64url')), -1, 'raw server secret visible to the proxy');
  // The same proxy in front of another relay (its own key): the client's pin fails.
  const impostor = await startWorld(t, { relay: { wsPort: 0, wsPath: SAMPLE_PATH } });
  const fake = await startSampleNginx(t, dir, { relayPort: impostor.relay.addresses.ws!.port, ca });
  const fooled = await runCli(['client', 'list', '--relay', `wss://127.0.0.1:${fake.port}${SAMPLE_PATH}`, '--fingerprint', world.identity.fingerprint, '--relay-ca', ca.caFile, '--user', 'alice'], {
    BURROW_PASSWORD: PASSWORD,
  });
  t.is(fooled.code, 3, fooled.stderr);
  t.is(errorCode(fooled.stderr), 'ERR_RELAY_KEY_MISMATCH', fooled.stderr);
});
