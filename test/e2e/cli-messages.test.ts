/**
 * What the real `burrow` command says when a user gets something wrong: for each mistake, the exit code
 * and the words that tell the user what to do (not the whole text: the advice may be reworded, but it
 * must keep naming the flag, the file or the fix). Relays run in-process on port 0; those that take
 * failed logins are their own, so their penalties reach no other test.
 */
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { errorCode, errorLines, runCli, spawnCli, type CliResult } from '../helpers/cli-process.js';
import { listen } from '../helpers/loopback.js';
import { newSecret, PASSWORD, server, startTestSkeleton, startWorld, tempDir, type World } from '../helpers/world.js';

const FP = 'SHA256:' + 'A'.repeat(43);

/** The last `burrow: ...` line; the test fails with the whole output if the code is not `code`. */
function failure(t: import('ava').ExecutionContext, run: CliResult, exit: number, code: string): string {
  t.is(run.code, exit, run.stderr);
  t.is(errorCode(run.stderr), code, run.stderr);
  return errorLines(run.stderr).at(-1) ?? '';
}

function includesAll(t: import('ava').ExecutionContext, line: string, words: string[]): void {
  for (const word of words) t.true(line.includes(word), `"${word}" in: ${line}`);
}

async function holdPort(t: import('ava').ExecutionContext): Promise<number> {
  const held: Server = createServer();
  await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => held.close(() => resolve())));
  return (held.address() as AddressInfo).port;
}

async function writeSecret(dir: string, name: string, world?: { secret: ReturnType<typeof newSecret> }): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, (world?.secret ?? newSecret()).reveal().toString('base64url') + '\n', { mode: 0o600 });
  return path;
}

function clientArgs(world: World, port = world.relay.addresses.client.port): string[] {
  return ['--relay', `127.0.0.1:${port}`, '--fingerprint', world.identity.fingerprint, '--user', 'alice'];
}

test('wrong password: exit 3, check --user, the password file and the port role', async (t) => {
  const world = await startWorld(t);
  const dir = await tempDir(t);
  await writeFile(join(dir, 'alice.pass'), 'not the password\n');
  const client = await runCli(['client', 'list', ...clientArgs(world), '--password-file', 'alice.pass'], {}, { cwd: dir });
  includesAll(t, failure(t, client, 3, 'ERR_AUTH_FAILED'), ['--user alice', 'alice.pass', "client port", '7000']);

  const secret = await writeSecret(dir, 'web.secret');
  const skeleton = await runCli([
    'skeleton', '--relay', `127.0.0.1:${world.relay.addresses.skeleton.port}`, '--fingerprint', world.identity.fingerprint, '--user', 'home',
    '--server', `web=127.0.0.1:9,secret-file=${secret}`,
  ], { BURROW_PASSWORD: 'not the password either' });
  includesAll(t, failure(t, skeleton, 3, 'ERR_AUTH_FAILED'), ['--user home', '--role skeleton', 'BURROW_PASSWORD', 'skeleton port', '7001']);
});

test('throttled: exit 3 and how long to wait', async (t) => {
  const world = await startWorld(t);
  const env = { BURROW_PASSWORD: 'a wrong password' };
  let last: CliResult | undefined;
  // Each failed login adds to this address's penalty; it is refused once the penalty reaches 15 s.
  for (let i = 0; i < 8 && errorCode(last?.stderr ?? '') !== 'ERR_THROTTLED'; i++) last = await runCli(['client', 'list', ...clientArgs(world)], env);
  includesAll(t, failure(t, last!, 3, 'ERR_THROTTLED'), ['wait at least 15 seconds', 'check --user alice']);
});

test('--relay with a port out of range: exit 2 saying so', async (t) => {
  const run = await runCli(['client', 'list', '--relay', '127.0.0.1:99999', '--fingerprint', FP, '--user', 'alice'], { BURROW_PASSWORD: PASSWORD });
  includesAll(t, failure(t, run, 2, 'ERR_USAGE'), ['--relay', 'port 99999 is out of range', '65535']);
});

test("a client or skeleton aimed at the relay's admin port fails at once: not a burrow relay port, exit 2", async (t) => {
  const world = await startWorld(t);
  const adminPort = world.relay.admin!.address.port;
  const run = await runCli(['client', 'list', ...clientArgs(world, adminPort)], { BURROW_PASSWORD: PASSWORD });
  includesAll(t, failure(t, run, 2, 'ERR_NOT_A_RELAY'), ['not a burrow relay port', 'HTTP', "relay's client port"]);
  const dir = await tempDir(t);
  await writeSecret(dir, 'web.secret');
  const skeleton = await runCli(['skeleton', '--relay', `127.0.0.1:${adminPort}`, '--fingerprint', world.identity.fingerprint, '--user', 'home', '--server', 'web=127.0.0.1:9,secret-file=web.secret'], {
    BURROW_PASSWORD: PASSWORD,
  }, { cwd: dir });
  includesAll(t, failure(t, skeleton, 2, 'ERR_NOT_A_RELAY'), ['not a burrow relay port', "relay's skeleton port"]);
});

test("a client aimed at the relay's skeleton port: exit 2, use the client port", async (t) => {
  const world = await startWorld(t);
  const run = await runCli(['client', 'list', ...clientArgs(world, world.relay.addresses.skeleton.port)], { BURROW_PASSWORD: PASSWORD });
  includesAll(t, failure(t, run, 2, 'ERR_USAGE'), ['skeleton port, not its client port', 'clients use its client port']);
});

test('a missing client secret file: exit 2, copy it from the skeleton host', async (t) => {
  const dir = await tempDir(t);
  const run = await runCli(['client', 'connect', 'web', '--secret-file', 'web.secret', '--relay', '127.0.0.1:7000', '--fingerprint', FP, '--user', 'alice'], { BURROW_PASSWORD: PASSWORD }, { cwd: dir });
  const line = failure(t, run, 2, 'ERR_CONFIG');
  includesAll(t, line, ['web.secret', 'copy it from the skeleton host']);
  t.false(line.includes('burrow secret generate'), 'a new secret would never match the server');
});

test('a missing password file: exit 2, create it with the password on its first line', async (t) => {
  const dir = await tempDir(t);
  const run = await runCli(['client', 'list', '--relay', '127.0.0.1:7000', '--fingerprint', FP, '--user', 'alice', '--password-file', 'alice.pass'], {}, { cwd: dir });
  includesAll(t, failure(t, run, 2, 'ERR_CONFIG'), ['alice.pass', 'not found', 'first line']);
});

test('keys: BURROW_KEYS serves burrow keys too; BURROW_KEYS and BURROW_KEYS_DIR apart is exit 2; no keys names the flags', async (t) => {
  const dir = await tempDir(t);
  const generated = await runCli(['keys', 'generate'], { BURROW_KEYS: 'relay-keys' }, { cwd: dir });
  t.is(generated.code, 0, generated.stderr);
  const shown = await runCli(['keys', 'fingerprint'], { BURROW_KEYS: 'relay-keys' }, { cwd: dir });
  t.is(shown.code, 0, shown.stderr);
  t.is(shown.stdout, generated.stdout, 'the fingerprint of the keys the relay reads');

  const both = await runCli(['keys', 'fingerprint'], { BURROW_KEYS: 'relay-keys', BURROW_KEYS_DIR: 'other-keys' }, { cwd: dir });
  includesAll(t, failure(t, both, 2, 'ERR_USAGE'), ['BURROW_KEYS_DIR=other-keys', 'BURROW_KEYS=relay-keys', 'unset one', '--dir']);

  const none = await runCli(['keys', 'fingerprint', '--dir', 'nowhere'], {}, { cwd: dir });
  includesAll(t, failure(t, none, 2, 'ERR_CONFIG'), ['nowhere/relay.pub.jwk', 'not found', 'burrow relay --keys DIR', 'burrow keys --dir DIR']);
});

test('relay ports in use name the flag and the fix, exit 2: --client-port, --skeleton-port, --admin, and both ports equal', async (t) => {
  const world = await startWorld(t);
  const taken = await holdPort(t);
  const relay = (args: string[]) => runCli(['relay', '--host', '127.0.0.1', '--keys', world.keysDir, '--users', world.usersFile, ...args]);
  const [client, skeleton, admin, same] = await Promise.all([
    relay(['--client-port', String(taken), '--skeleton-port', '0']),
    relay(['--client-port', '0', '--skeleton-port', String(taken)]),
    relay(['--client-port', '0', '--skeleton-port', '0', '--admin', `127.0.0.1:${taken}`]),
    relay(['--client-port', '7100', '--skeleton-port', '7100']),
  ]);
  includesAll(t, failure(t, client, 2, 'ERR_LISTEN'), [`--client-port 127.0.0.1:${taken}`, 'already in use', 'choose another port with --client-port']);
  includesAll(t, failure(t, skeleton, 2, 'ERR_LISTEN'), [`--skeleton-port 127.0.0.1:${taken}`, 'already in use', 'choose another port with --skeleton-port']);
  includesAll(t, failure(t, admin, 2, 'ERR_LISTEN'), [`--admin 127.0.0.1:${taken}`, 'already in use', 'choose another port with --admin']);
  includesAll(t, failure(t, same, 2, 'ERR_USAGE'), ['--client-port and --skeleton-port are both 7100', 'a port each']);
});

test('relay --host that is not an address of this machine: exit 2 naming --host', async (t) => {
  const world = await startWorld(t);
  // 192.0.2.0/24 is reserved for documentation: never an address of a test machine.
  const run = await runCli(['relay', '--host', '192.0.2.1', '--client-port', '0', '--skeleton-port', '0', '--keys', world.keysDir, '--users', world.usersFile]);
  includesAll(t, failure(t, run, 2, 'ERR_LISTEN'), ['--host 192.0.2.1', 'not an address of this machine', '0.0.0.0']);
});

test('client connect --listen on a port in use: exit 2 naming --listen', async (t) => {
  const world = await startWorld(t);
  const secret = newSecret();
  await startTestSkeleton(t, world, [server('web', await listen(t, (s) => s.end()), secret)]);
  const dir = await tempDir(t);
  await writeSecret(dir, 'web.secret', { secret });
  const taken = await holdPort(t);
  const run = await runCli(['client', 'connect', 'web', '--listen', `127.0.0.1:${taken}`, '--secret-file', 'web.secret', ...clientArgs(world)], { BURROW_PASSWORD: PASSWORD }, { cwd: dir });
  includesAll(t, failure(t, run, 2, 'ERR_LISTEN'), [`--listen 127.0.0.1:${taken}`, 'already in use', 'choose another port with --listen']);
});

test('a skeleton that pins another key refused the relay (not the reverse): exit 3 and how to re-pin', async (t) => {
  const world = await startWorld(t);
  const dir = await tempDir(t);
  await writeSecret(dir, 'web.secret');
  const hostPort = `127.0.0.1:${world.relay.addresses.skeleton.port}`;
  const run = await runCli(['skeleton', '--relay', hostPort, '--fingerprint', FP, '--user', 'home', '--server', 'web=127.0.0.1:9,secret-file=web.secret'], { BURROW_PASSWORD: PASSWORD }, { cwd: dir });
  includesAll(t, failure(t, run, 3, 'ERR_RELAY_KEY_MISMATCH'), [`this skeleton refused the relay at ${hostPort}`, 'rotated', '--fingerprint', `burrow client trust ${hostPort} --replace`]);
});

test('a skeleton whose relay is not there says in words that it keeps retrying and why, and again after losing it', async (t) => {
  const dir = await tempDir(t);
  await writeSecret(dir, 'web.secret');
  // Something that takes the connection and drops it: no relay there (yet).
  const nothing = await listen(t, (socket) => socket.destroy());
  const waiting = spawnCli(t, ['skeleton', '--relay', `127.0.0.1:${nothing}`, '--fingerprint', FP, '--user', 'home', '--server', 'web=127.0.0.1:9,secret-file=web.secret'], {
    cwd: dir, env: { BURROW_PASSWORD: PASSWORD },
  });
  const line = (await waiting.waitForLine(/^burrow skeleton: .*Retrying until the relay answers/, { stream: 'stderr' }))[0];
  includesAll(t, line, [`127.0.0.1:${nothing}`, "the relay's skeleton port"]);
  t.is(waiting.child.exitCode, null, 'still running: waiting for the relay is a state, not an error');

  const world = await startWorld(t);
  const secret = await writeSecret(dir, 'served.secret');
  const serving = spawnCli(t, ['skeleton', '--relay', `127.0.0.1:${world.relay.addresses.skeleton.port}`, '--fingerprint', world.identity.fingerprint, '--user', 'home', '--server', `web=127.0.0.1:9,secret-file=${secret}`], {
    cwd: dir, env: { BURROW_PASSWORD: PASSWORD },
  });
  await serving.waitForLine(/^skeleton serving web /);
  await world.relay.close({ drainMs: 0 });
  const after = (await serving.waitForLine(/^burrow skeleton: .*Retrying until the relay answers/, { stream: 'stderr' }))[0];
  includesAll(t, after, [`127.0.0.1:${world.relay.addresses.skeleton.port}`, 'is the relay running']);
});
