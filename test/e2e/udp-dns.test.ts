/**
 * Home DNS through burrow, as the README tells it (issue 17): dnsmasq from Debian behind a skeleton
 * (`transport=udp`), the real `burrow client list` saying udp, the real `burrow client connect` learning
 * from the listing to listen on UDP, and the real `dig` resolving through it.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli, spawnCli } from '../helpers/cli-process.js';
import { DNS_ANSWER, DNS_NAME, startDnsmasq } from '../helpers/dnsmasq.js';
import { findProgram } from '../helpers/port-daemon.js';
import { newSecret, PASSWORD, server, startTestSkeleton, startWorld, tempDir } from '../helpers/world.js';

const run = promisify(execFile);

/**
 * A relay, a home dnsmasq and its secret in dns.secret; `serve()` starts the skeleton that fronts it;
 * `alice` are the client flags; `dig(port)` asks through a forwarder on 127.0.0.1:port.
 */
async function dnsHome(t: ExecutionContext) {
  const digPath = findProgram('dig', 'bind9-dnsutils');
  const world = await startWorld(t);
  const dir = await tempDir(t);
  const dns = await startDnsmasq(t, dir);
  const secret = newSecret();
  await writeFile(join(dir, 'dns.secret'), secret.reveal().toString('base64url') + '\n', { mode: 0o600 });
  return {
    dir,
    alice: ['--relay', `127.0.0.1:${world.relay.addresses.client.port}`, '--fingerprint', world.identity.fingerprint, '--user', 'alice'],
    serve: () => startTestSkeleton(t, world, [server('home-dns', dns.port, secret, { protocol: 'udp', transport: 'udp' })]),
    dig: async (port: string): Promise<string> => (await run(digPath, ['@127.0.0.1', '-p', port, DNS_NAME, 'A', '+short', '+tries=1', '+time=10'], { timeout: 30_000 })).stdout.trim(),
  };
}

test('dig through a client forwarder gets the home dnsmasq answer', async (t) => {
  const { dir, alice, serve, dig } = await dnsHome(t);
  await serve();

  const list = await runCli(['client', 'list', ...alice], { BURROW_PASSWORD: PASSWORD }, { cwd: dir });
  t.is(list.code, 0, list.stderr);
  t.regex(list.stdout, /^home-dns\tudp\t/m);

  const connect = spawnCli(t, ['client', 'connect', 'home-dns', '--listen', '127.0.0.1:0', '--secret-file', 'dns.secret', ...alice], { cwd: dir, env: { BURROW_PASSWORD: PASSWORD } });
  const forwarding = await connect.waitForLine(/^forwarding udp 127\.0\.0\.1:(\d+) -> home-dns \(/);
  // Two queries, from two source ports dig picks: two flows, each answered.
  t.is(await dig(forwarding[1]!), DNS_ANSWER);
  t.is(await dig(forwarding[1]!), DNS_ANSWER);
  t.deepEqual(await connect.stop(), { code: 0, signal: null }, 'SIGTERM stops client connect cleanly');
});

test('client connect --udp started before the skeleton advertises listens on UDP at once, and answers once the server is there', async (t) => {
  const { dir, alice, serve, dig } = await dnsHome(t);
  const connect = spawnCli(t, ['client', 'connect', 'home-dns', '--udp', '--listen', '127.0.0.1:0', '--secret-file', 'dns.secret', ...alice], { cwd: dir, env: { BURROW_PASSWORD: PASSWORD } });
  await connect.waitForLine(/warning: server home-dns is not listed \(yet\).*on TCP unless --udp/, { stream: 'stderr' });
  const forwarding = await connect.waitForLine(/^forwarding udp 127\.0\.0\.1:(\d+) -> home-dns \(/);
  // Only now does the home side come up.
  await serve();
  t.is(await dig(forwarding[1]!), DNS_ANSWER);
  t.deepEqual(await connect.stop(), { code: 0, signal: null });
});

test('a --server the skeleton cannot honour (transport, PROXY v1 over UDP, a udp server on tcp://) is a usage error naming the option (exit 2, no relay contacted)', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'dns.secret'), newSecret().reveal().toString('base64url') + '\n', { mode: 0o600 });
  for (const args of [
    ['--server', 'dns=127.0.0.1:53,secret-file=dns.secret,transport=quic'],
    ['--server', 'dns=127.0.0.1:53,secret-file=dns.secret,transport=udp,proxy-protocol=v1'],
    // A udp server published on a tcp:// port: the skeleton would splice TCP bytes into datagram records.
    ['--server', 'dns=127.0.0.1:53,secret-file=dns.secret,transport=udp', '--publish', 'dns=tcp://:5353'],
  ]) {
    const run = await runCli(['skeleton', '--relay', '127.0.0.1:9', '--fingerprint', `SHA256:${'A'.repeat(43)}`, '--user', 'home', ...args], { BURROW_PASSWORD: PASSWORD }, { cwd: dir });
    t.is(run.code, 2, run.stderr);
    t.regex(run.stderr, /--server|--publish/);
    t.regex(run.stderr, /ERR_(USAGE|CONFIG)/);
  }
});
