/**
 * Peers behind a real forward proxy (tinyproxy) that allows CONNECT only to the relay's WebSocket port
 * (a firewall's 443) and wants Basic credentials: with them, everything works; without them, or to a
 * port it does not allow, the peer fails at once with the proxy and its status named (never the
 * credentials), and the exit code of the registry.
 */
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { BurrowError } from '../../shared/errors.js';
import { parseProxyUrl } from '../../shared/net/http-connect.js';
import { connect } from '../../client/index.js';
import { Redacted } from '../../shared/redacted.js';
import { errorCode, runCli } from '../helpers/cli-process.js';
import { received, sendAndCollect } from '../helpers/streams.js';
import { PROXY_PASS, startTinyproxy } from '../helpers/tinyproxy.js';
import { startWsWorld, WS_PATH } from '../helpers/ws-world.js';
import { connectTestClient, echoServer, newSecret, PASSWORD, server, startTestSkeleton, tempDir } from '../helpers/world.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('skeleton and client over ws:// through a CONNECT-only proxy with credentials reach the echo server', async (t) => {
  const world = await startWsWorld(t);
  const proxy = await startTinyproxy(t, world.dir, [world.relay.addresses.ws!.port]);
  const viaProxy = { ...world.ws, proxy: parseProxyUrl(proxy.url) };
  const echo = await echoServer(t);
  const secret = newSecret();
  await startTestSkeleton(t, { ...world, skeletonTarget: viaProxy }, [server('echo', echo.port, secret)]);
  const client = await connectTestClient(t, { ...world, clientTarget: viaProxy });
  const payload = randomBytes(500_000);
  t.is(sha(await sendAndCollect(await client.open('echo', { secret }), payload)), sha(payload));
  // The proxy carried them: its log has the CONNECTs to the WebSocket port.
  t.true(proxy.daemon.output.some((l) => l.includes(`CONNECT 127.0.0.1:${world.relay.addresses.ws!.port}`)), proxy.daemon.output.join('\n'));
});

test('a proxy that wants credentials (407) or refuses the port (403): a clear error at once', async (t) => {
  const world = await startWsWorld(t);
  const proxy = await startTinyproxy(t, world.dir, [world.relay.addresses.ws!.port]);
  const noCreds = connect({ relay: { ...world.ws, proxy: parseProxyUrl(proxy.bareUrl) }, user: 'alice', password: new Redacted(PASSWORD) });
  const e407 = await t.throwsAsync(noCreds, { instanceOf: BurrowError });
  // What the message says (the proxy by address, its answer) is checked on the command line below.
  t.is(e407.code, 'ERR_PROXY_AUTH');
  // Plain TCP to the relay's client port: not a port the proxy lets through.
  const tcp = { host: '127.0.0.1', port: world.relay.addresses.client.port, fingerprint: world.identity.fingerprint, proxy: parseProxyUrl(proxy.url) };
  const e403 = await t.throwsAsync(connect({ relay: tcp, user: 'alice', password: new Redacted(PASSWORD) }), { instanceOf: BurrowError });
  t.is(e403.code, 'ERR_PROXY_REFUSED');
  t.false(e403.message.includes(PROXY_PASS));
});

// tinyproxy ends a CONNECT tunnel at the first FIN, so a stream's half-close does not cross it over plain
// TCP (over a WebSocket it does: it is a message there). This echo reads its answer before it ends.
test('plain TCP relay ports through the CONNECT proxy work too', async (t) => {
  const world = await startWsWorld(t);
  const { client: c, skeleton: s } = world.relay.addresses;
  const proxy = await startTinyproxy(t, world.dir, [c.port, s.port]);
  const fp = world.identity.fingerprint;
  const via = parseProxyUrl(proxy.url);
  const echo = await echoServer(t);
  const secret = newSecret();
  await startTestSkeleton(t, { ...world, skeletonTarget: { host: '127.0.0.1', port: s.port, fingerprint: fp, proxy: via } }, [server('echo', echo.port, secret)]);
  const client = await connectTestClient(t, { ...world, clientTarget: { host: '127.0.0.1', port: c.port, fingerprint: fp, proxy: via } });
  const payload = randomBytes(100_000);
  const stream = await client.open('echo', { secret });
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.write(payload);
  await received(stream, payload.length);
  t.is(sha(Buffer.concat(chunks)), sha(payload));
  stream.destroy();
});

test('burrow client list: a proxy without credentials gives exit 3 naming it and 407, a forbidden port exit 1 and 403; NO_PROXY bypasses it; --print-config hides --proxy', async (t) => {
  const world = await startWsWorld(t);
  const proxy = await startTinyproxy(t, world.dir, [world.relay.addresses.ws!.port]);
  const dir = await tempDir(t);
  // ws:// is read from http_proxy, as curl does; the plain-TCP and wss:// cases from https_proxy.
  const args = ['client', 'list', '--relay', `ws://127.0.0.1:${world.relay.addresses.ws!.port}${WS_PATH}`, '--fingerprint', world.identity.fingerprint, '--user', 'alice'];
  const refused = await runCli(args, { BURROW_PASSWORD: PASSWORD, http_proxy: proxy.bareUrl }, { cwd: dir });
  t.is(refused.code, 3, refused.stderr);
  t.is(errorCode(refused.stderr), 'ERR_PROXY_AUTH', refused.stderr);
  t.true(refused.stderr.includes(`proxy 127.0.0.1:${proxy.port}`) && refused.stderr.includes('407'), refused.stderr);
  // A plain relay address is read from https_proxy; this proxy allows no CONNECT to the client port: 403.
  const tcpArgs = ['client', 'list', '--relay', `127.0.0.1:${world.relay.addresses.client.port}`, '--fingerprint', world.identity.fingerprint, '--user', 'alice'];
  const forbidden = await runCli(tcpArgs, { BURROW_PASSWORD: PASSWORD, https_proxy: proxy.url }, { cwd: dir });
  t.is(forbidden.code, 1, forbidden.stderr);
  t.is(errorCode(forbidden.stderr), 'ERR_PROXY_REFUSED', forbidden.stderr);
  t.true(forbidden.stderr.includes(`proxy 127.0.0.1:${proxy.port}`) && forbidden.stderr.includes('403'), forbidden.stderr);
  t.false(forbidden.stderr.includes(PROXY_PASS), 'the credentials are never printed');
  const direct = await runCli(args, { BURROW_PASSWORD: PASSWORD, http_proxy: proxy.bareUrl, NO_PROXY: 'localhost,127.0.0.1' }, { cwd: dir });
  t.is(direct.code, 0, direct.stderr);
  const withCreds = await runCli([...args, '--proxy', proxy.url], { BURROW_PASSWORD: PASSWORD }, { cwd: dir });
  t.is(withCreds.code, 0, withCreds.stderr);
  t.false(withCreds.stderr.includes(PROXY_PASS) || withCreds.stdout.includes(PROXY_PASS));
  const printed = await runCli([...args, '--proxy', proxy.url, '--print-config'], {}, { cwd: dir });
  t.is(printed.code, 0, printed.stderr);
  t.true(printed.stdout.includes('proxy'), printed.stdout);
  t.false(printed.stdout.includes(PROXY_PASS), printed.stdout);
});
