/**
 * `burrow client trust` against a real relay: the fingerprint from the client or skeleton port's Hello,
 * or from the admin port's well-known URLs (served here by a small node:http server from the relay's own
 * key files), pinned only after confirmation; a changed key is refused loudly and never overwritten
 * without --replace; client commands then find the pin without --fingerprint.
 */
import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { relayTargetOf } from '../../shared/cli/peer-options.js';
import { loadRelayPublicKey } from '../../shared/crypto/relay-key-files.js';
import { errorCode, runCli, spawnCli } from '../helpers/cli-process.js';
import { rejectsCode } from '../helpers/unit-errors.js';
import { runClient, ttyInput } from '../helpers/cli-inprocess.js';
import { echoServer, newSecret, PASSWORD, server, startTestSkeleton, startWorld, type World } from '../helpers/world.js';

const OTHER_FP = 'SHA256:' + 'B'.repeat(43);

async function setup(t: import('ava').ExecutionContext): Promise<{ world: World; file: string; client: string; skeleton: string }> {
  const world = await startWorld(t);
  return {
    world,
    file: join(world.dir, 'known_relays'),
    client: `127.0.0.1:${world.relay.addresses.client.port}`,
    skeleton: `127.0.0.1:${world.relay.addresses.skeleton.port}`,
  };
}

test('trust --yes pins the client port from its greeting; client list then needs no --fingerprint', async (t) => {
  const { world, file, client } = await setup(t);
  const echo = await echoServer(t);
  await startTestSkeleton(t, world, [server('web', echo.port, newSecret())]);

  const run = await runClient(['trust', client, '--yes', '--known-relays', file]);
  t.deepEqual(run.stdout, [`pinned ${client} ${world.identity.fingerprint} in ${file}`]);
  t.true(run.stderr.some((l) => l.includes(world.identity.fingerprint)), 'the fingerprint is shown');
  t.is(await readFile(file, 'utf8'), `${client} ${world.identity.fingerprint}\n`);

  const list = await runClient(['list', '--json', '--relay', client, '--user', 'alice', '--known-relays', file], { env: { BURROW_PASSWORD: PASSWORD } });
  t.deepEqual((JSON.parse(list.stdout[0] ?? '[]') as { id: string }[]).map((s) => s.id), ['web']);

  // Without a pin and without --fingerprint the command says how to pin.
  await rejectsCode(t, () => runClient(['list', '--relay', client, '--user', 'alice', '--known-relays', join(world.dir, 'none')], { env: { BURROW_PASSWORD: PASSWORD } }), 'ERR_USAGE');
});

test('the skeleton port greets too: the skeleton finds its pin by address', async (t) => {
  const { world, file, skeleton, client } = await setup(t);
  await runClient(['trust', skeleton, '--yes', '--known-relays', file]);
  const target = await relayTargetOf({ relay: skeleton, knownRelays: file }, {});
  t.deepEqual(target, { host: '127.0.0.1', port: world.relay.addresses.skeleton.port, fingerprint: world.identity.fingerprint });
  // Pins are per address: the client port is not pinned by this.
  await rejectsCode(t, () => relayTargetOf({ relay: client, knownRelays: file }, {}), 'ERR_USAGE');
});

test('a pinned fingerprint that differs is refused (ERR_RELAY_KEY_MISMATCH) and kept; --replace replaces it', async (t) => {
  const { world, file, client } = await setup(t);
  const before = `# pinned by hand\n${client} ${OTHER_FP}\n`;
  await writeFile(file, before);

  // The pin is used: the real relay does not prove the pinned key.
  await rejectsCode(t, () => runClient(['list', '--relay', client, '--user', 'alice', '--known-relays', file], { env: { BURROW_PASSWORD: PASSWORD } }), 'ERR_RELAY_KEY_MISMATCH');

  const err = await rejectsCode(t, () => runClient(['trust', client, '--yes', '--known-relays', file]), 'ERR_RELAY_KEY_MISMATCH');
  t.truthy(err);
  t.is(await readFile(file, 'utf8'), before, 'never overwritten without --replace, even with --yes');

  // --replace asks first: declining changes nothing.
  await rejectsCode(t, () => runClient(['trust', client, '--replace', '--known-relays', file], { stdin: ttyInput('n\n') }), 'ERR_USAGE');
  t.is(await readFile(file, 'utf8'), before);

  const replaced = await runClient(['trust', client, '--replace', '--known-relays', file], { stdin: ttyInput('yes\n') });
  t.deepEqual(replaced.stdout, [`pinned ${client} ${world.identity.fingerprint} in ${file}`]);
  t.is(await readFile(file, 'utf8'), `# pinned by hand\n${client} ${world.identity.fingerprint}\n`, 'replaced in place, comments kept');
});

test('without --yes: a terminal is asked, anything but yes pins nothing; a non-terminal is refused', async (t) => {
  const { world, file, client } = await setup(t);
  await rejectsCode(t, () => runClient(['trust', client, '--known-relays', file]), 'ERR_USAGE');
  t.is(await readFile(file, 'utf8').catch(() => 'absent'), 'absent', 'a refused non-terminal pins nothing');

  await rejectsCode(t, () => runClient(['trust', client, '--known-relays', file], { stdin: ttyInput('maybe\n') }), 'ERR_USAGE');
  t.is(await readFile(file, 'utf8').catch(() => 'absent'), 'absent');

  const run = await runClient(['trust', client, '--known-relays', file], { stdin: ttyInput('y\n') });
  t.true(run.stderr.some((l) => l.includes('[y/N]')), 'asked');
  t.is(await readFile(file, 'utf8'), `${client} ${world.identity.fingerprint}\n`);

  const again = await runClient(['trust', client, '--known-relays', file]);
  t.regex(again.stdout[0] ?? '', /already pinned/, 'an unchanged pin needs no confirmation');
});

test('the default file is $XDG_CONFIG_HOME/burrow/known_relays', async (t) => {
  const { world, client } = await setup(t);
  await runClient(['trust', client, '--yes'], { env: { XDG_CONFIG_HOME: world.dir } });
  t.is(await readFile(join(world.dir, 'burrow', 'known_relays'), 'utf8'), `${client} ${world.identity.fingerprint}\n`);
});

async function wellKnown(t: import('ava').ExecutionContext, world: World, info: object): Promise<string> {
  const jwk = (await loadRelayPublicKey(world.keysDir)).publicJwk;
  const http = createServer((req, res) => {
    const body = req.url === '/.well-known/burrow/relay.json' ? info : req.url === '/.well-known/burrow/relay.pub.jwk' ? jwk : undefined;
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    res.end(body ? JSON.stringify(body) : '');
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => http.close(() => resolve())));
  return `127.0.0.1:${(http.address() as AddressInfo).port}`;
}

test('--http reads relay.json and relay.pub.jwk, recomputes the fingerprint and pins both relay ports', async (t) => {
  const { world, file, client, skeleton } = await setup(t);
  const ports = { clientPort: world.relay.addresses.client.port, skeletonPort: world.relay.addresses.skeleton.port };
  const admin = await wellKnown(t, world, { fingerprint: world.identity.fingerprint, ...ports });
  const run = await runClient(['trust', admin, '--http', '--yes', '--known-relays', file]);
  t.is(run.stdout.length, 2);
  t.is(await readFile(file, 'utf8'), `${client} ${world.identity.fingerprint}\n${skeleton} ${world.identity.fingerprint}\n`);

  // Through a tunnel the admin address is not the relay's: --pin-host names the host to pin.
  const tunnelled = join(world.dir, 'tunnelled');
  await runClient(['trust', admin, '--http', '--pin-host', 'Relay.Example.net', '--yes', '--known-relays', tunnelled]);
  t.is(await readFile(tunnelled, 'utf8'), `relay.example.net:${ports.clientPort} ${world.identity.fingerprint}\nrelay.example.net:${ports.skeletonPort} ${world.identity.fingerprint}\n`);
  await rejectsCode(t, () => runClient(['trust', client, '--pin-host', 'x', '--yes', '--known-relays', tunnelled]), 'ERR_USAGE');

  // relay.json naming another fingerprint than its own JWK's is refused, and nothing is written.
  const liar = await wellKnown(t, world, { fingerprint: OTHER_FP, ...ports });
  const other = join(world.dir, 'other_known');
  await rejectsCode(t, () => runClient(['trust', liar, '--http', '--yes', '--known-relays', other]), 'ERR_RELAY_KEY_MISMATCH');
  t.is(await readFile(other, 'utf8').catch(() => 'absent'), 'absent');
});

test('the real command: exit 2 when it cannot ask, 0 with --yes, 3 on a changed key', async (t) => {
  const { world, file, client } = await setup(t);
  const refused = await runCli(['client', 'trust', client, '--known-relays', file]);
  t.is(refused.code, 2, refused.stderr);
  t.is(errorCode(refused.stderr), 'ERR_USAGE');
  const ok = await runCli(['client', 'trust', client, '--known-relays', file, '--yes']);
  t.is(ok.code, 0, ok.stderr);
  t.is(ok.stdout, `pinned ${client} ${world.identity.fingerprint} in ${file}\n`);
  await writeFile(file, `${client} ${OTHER_FP}\n`);
  const changed = await runCli(['client', 'trust', client, '--known-relays', file, '--yes']);
  t.is(changed.code, 3, changed.stderr);
  t.is(errorCode(changed.stderr), 'ERR_RELAY_KEY_MISMATCH');
  t.regex(changed.stderr, /WARNING: the relay at/);
  t.is(await readFile(file, 'utf8'), `${client} ${OTHER_FP}\n`);
});

test('the real skeleton, without --fingerprint, uses its pin; a wrong pin stops it with exit 3', async (t) => {
  const { world, file, skeleton } = await setup(t);
  const echo = await echoServer(t);
  const secretFile = join(world.dir, 'echo.secret');
  await writeFile(secretFile, newSecret().reveal().toString('base64url') + '\n');
  await runClient(['trust', skeleton, '--yes', '--known-relays', file]);
  const args = ['skeleton', '--relay', skeleton, '--known-relays', file, '--user', 'home', '--server', `echo=127.0.0.1:${echo.port},secret-file=${secretFile}`];
  const proc = spawnCli(t, args, { env: { BURROW_PASSWORD: PASSWORD } });
  await proc.waitForLine(/^skeleton serving echo through /);
  t.deepEqual(await proc.stop(), { code: 0, signal: null });

  await writeFile(file, `${skeleton} ${OTHER_FP}\n`);
  const refused = await runCli(args, { BURROW_PASSWORD: PASSWORD });
  t.is(refused.code, 3, refused.stderr);
  t.is(errorCode(refused.stderr), 'ERR_RELAY_KEY_MISMATCH');
});
