/**
 * The real `burrow` command, driven like a user following the README: keys, secrets and users made with
 * the CLI, a relay and a skeleton as separate processes, a client forwarder reached with the real curl.
 * One relay and one skeleton serve the whole file (built on first use, so tests stay order-independent);
 * the exit-code tests check what a user sees when something is wrong.
 */
import { curl } from '../helpers/curl.js';
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FINGERPRINT_RE } from '../../shared/crypto/fingerprint.js';
import { CLI_COMMAND, errorCode, errorLines, runCli, spawnCli, type CliProcess, type CliResult } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/world.js';

const ALICE_PASSWORD = 'alice: correct horse battery staple';
const HOME_PASSWORD = 'home: tr0ub4dor&3';

interface HttpFixture {
  port: number;
  body: string;
  /** TCP connections the server accepted. */
  connections: () => number;
}

interface CliWorld {
  dir: string;
  fingerprint: string;
  steps: { keys: CliResult; secret: CliResult; addAlice: CliResult; addHome: CliResult; usersList: CliResult };
  relayLine: string;
  relayFingerprint: string;
  clientPort: number;
  skeletonPort: number;
  skeletonLine: string;
  web: HttpFixture;
  /** Fronted as web-vault: no test may reach it, so its connection count proves refusals. */
  vault: HttpFixture;
  /** --relay, --fingerprint and --user for alice on the client port. */
  alice: string[];
}

const cleanups: (() => Promise<unknown>)[] = [];
let shared: Promise<CliWorld> | undefined;
let sharedAuth: Promise<{ clientPort: number; skeletonPort: number }> | undefined;

test.after.always(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function mustSucceed(what: string, result: CliResult): CliResult {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`);
  return result;
}

async function httpFixture(body: string): Promise<HttpFixture> {
  let count = 0;
  const server: Server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(body);
  });
  server.on('connection', () => count++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { port: (server.address() as AddressInfo).port, body, connections: () => count };
}

async function buildWorld(): Promise<CliWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'burrow-cli-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const burrow = (args: string[], env: Record<string, string> = {}) => runCli(args, env, { cwd: dir });

  const keys = mustSucceed('keys generate', await burrow(['keys', 'generate', '--dir', 'keys']));
  const fingerprint = keys.stdout.trim();
  const secret = mustSucceed('secret generate', await burrow(['secret', 'generate', '--out', 'web.secret']));
  mustSucceed('secret generate (vault)', await burrow(['secret', 'generate', '--out', 'vault.secret']));
  const addAlice = mustSucceed('users add alice', await burrow(['users', 'add', 'alice', '--role', 'client', '--access', 'web*'], { BURROW_PASSWORD: ALICE_PASSWORD }));
  const addHome = mustSucceed('users add home', await burrow(['users', 'add', 'home', '--role', 'skeleton', '--serve', 'web*'], { BURROW_PASSWORD: HOME_PASSWORD }));
  const usersList = mustSucceed('users list', await burrow(['users', 'list']));

  const web = await httpFixture(`hello from behind the NAT ${randomBytes(8).toString('hex')}\n`);
  const vault = await httpFixture('the vault must never be reached\n');

  const relay = spawnCli(undefined, ['relay', '--host', '127.0.0.1', '--client-port', '0', '--skeleton-port', '0', '--keys', 'keys', '--users', 'users.json'], { cwd: dir });
  cleanups.push(() => relay.stop());
  const r = await relay.waitForLine(/^relay (SHA256:\S+) clients on 127\.0\.0\.1:(\d+), skeletons on 127\.0\.0\.1:(\d+)$/);
  const [relayLine, relayFingerprint, clientPort, skeletonPort] = [r[0], r[1]!, Number(r[2]), Number(r[3])];

  const skeleton = spawnCli(undefined, [
    'skeleton', '--relay', `127.0.0.1:${skeletonPort}`, '--fingerprint', fingerprint, '--user', 'home',
    '--server', `web=127.0.0.1:${web.port},secret-file=web.secret,protocol=http`,
    '--server', `web-vault=127.0.0.1:${vault.port},secret-file=vault.secret,protocol=http,description=private`,
  ], { cwd: dir, env: { BURROW_PASSWORD: HOME_PASSWORD } });
  cleanups.push(() => skeleton.stop());
  const skeletonLine = (await skeleton.waitForLine(/^skeleton serving .*$/))[0];

  return {
    dir, fingerprint, steps: { keys, secret, addAlice, addHome, usersList }, relayLine, relayFingerprint, clientPort, skeletonPort, skeletonLine,
    web, vault, alice: ['--relay', `127.0.0.1:${clientPort}`, '--fingerprint', fingerprint, '--user', 'alice'],
  };
}

function world(): Promise<CliWorld> {
  shared ??= buildWorld();
  return shared;
}

/**
 * A second relay on the same keys and users, for the tests that fail logins on purpose: growing
 * per-source penalties there cannot slow down the logins of the other tests.
 */
function authRelay(): Promise<{ clientPort: number; skeletonPort: number }> {
  sharedAuth ??= (async () => {
    const w = await world();
    const relay = spawnCli(undefined, ['relay', '--host', '127.0.0.1', '--client-port', '0', '--skeleton-port', '0', '--keys', 'keys', '--users', 'users.json'], { cwd: w.dir });
    cleanups.push(() => relay.stop());
    const m = await relay.waitForLine(/^relay SHA256:\S+ clients on 127\.0\.0\.1:(\d+), skeletons on 127\.0\.0\.1:(\d+)$/);
    return { clientPort: Number(m[1]), skeletonPort: Number(m[2]) };
  })();
  return sharedAuth;
}

/** Connects, writes `request` and half-closes at once, and reads the answer to the end. */
function oneShot(port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.end(request));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
  });
}

test('a user following the README reaches a home web server with curl through relay, skeleton and client', async (t) => {
  const w = await world();
  const burrow = (args: string[], env: Record<string, string> = {}) => runCli(args, env, { cwd: w.dir });

  // keys generate: stdout is the fingerprint alone, and the relay announces the same one.
  t.regex(w.fingerprint, FINGERPRINT_RE);
  t.is(w.steps.keys.stdout, `${w.fingerprint}\n`);
  t.is(w.relayFingerprint, w.fingerprint);
  // secret generate --out: a new 0600 file holding 43 base64url characters, nothing on stdout.
  t.is(w.steps.secret.stdout, '');
  t.regex(await readFile(join(w.dir, 'web.secret'), 'utf8'), /^[A-Za-z0-9_-]{43}\n?$/);
  t.is((await stat(join(w.dir, 'web.secret'))).mode & 0o777, 0o600);
  // users add / list: both accounts, with their roles and patterns; no password in the file.
  t.regex(w.steps.usersList.stdout, /^alice\s+client\s+-\s+web\*\s+-\s+no$/m);
  t.regex(w.steps.usersList.stdout, /^home\s+skeleton\s+web\*\s+-\s+-\s+no$/m);
  const usersFile = await readFile(join(w.dir, 'users.json'), 'utf8');
  t.false(usersFile.includes(ALICE_PASSWORD) || usersFile.includes(HOME_PASSWORD), 'passwords are stored only as hashes');
  t.is(w.skeletonLine, `skeleton serving web, web-vault through 127.0.0.1:${w.skeletonPort}`);

  const env = { BURROW_PASSWORD: ALICE_PASSWORD };
  const list = await burrow(['client', 'list', ...w.alice], env);
  t.is(list.code, 0, list.stderr);
  t.regex(list.stdout, /^web\thttp\t/m);

  const json = await burrow(['client', 'list', '--json', ...w.alice], env);
  t.is(json.code, 0, json.stderr);
  const servers = JSON.parse(json.stdout) as { id: string; protocol: string; description: string }[];
  t.deepEqual(servers.map((s) => s.id).sort(), ['web', 'web-vault']);
  t.like(servers.find((s) => s.id === 'web'), { id: 'web', protocol: 'http' });
  // S10: the listing never reveals where a server lives.
  for (const leak of ['127.0.0.1', String(w.web.port), String(w.vault.port), String(w.skeletonPort)]) {
    t.false(json.stdout.includes(leak), `client list --json must not contain ${leak}`);
  }

  const connect = spawnCli(t, ['client', 'connect', 'web', '--listen', '127.0.0.1:0', '--secret-file', 'web.secret', ...w.alice], { cwd: w.dir, env });
  const forwarding = await connect.waitForLine(/^forwarding 127\.0\.0\.1:(\d+) -> web \(/);
  const got = await curl(`http://127.0.0.1:${forwarding[1]}/`);
  t.is(got.code, 0, got.stderr);
  t.is(got.stdout, w.web.body);
  t.true(w.web.connections() >= 1);
  // Apps that send their request and half-close in one go (printf ... | nc -N): request, FIN, the
  // tunnel's early data and end-of-stream reach the skeleton together, and every one is answered.
  for (let i = 0; i < 20; i++) {
    const reply = await oneShot(Number(forwarding[1]), 'GET / HTTP/1.0\r\n\r\n');
    t.true(reply.startsWith('HTTP/1.1 200') && reply.endsWith(w.web.body), `one-shot request ${i}: ${JSON.stringify(reply.slice(0, 40))}`);
  }

  const exit = await connect.stop();
  t.deepEqual(exit, { code: 0, signal: null }, 'SIGTERM stops client connect cleanly');
});

test('client stdio carries one HTTP exchange on stdin and stdout and exits 0', async (t) => {
  const w = await world();
  const result = await runCli(['client', 'stdio', 'web', '--secret-file', 'web.secret', ...w.alice], { BURROW_PASSWORD: ALICE_PASSWORD }, {
    cwd: w.dir,
    input: 'GET / HTTP/1.0\r\nHost: web\r\n\r\n',
  });
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /^HTTP\/1\.[01] 200 /);
  t.true(result.stdout.endsWith(w.web.body));
});

/**
 * The node modules a real `burrow` process loaded by its exit (process.moduleLoadList, written by a
 * preloaded script): what a command's start costs is mostly node compiling modules it requires.
 */
async function modulesLoaded(t: ExecutionContext, args: string[], env: Record<string, string>, opts: { cwd?: string; input?: string } = {}): Promise<{ result: CliResult; builtins: string[] }> {
  const dir = await tempDir(t);
  const [preload, out] = [join(dir, 'record.cjs'), join(dir, 'modules.json')];
  await writeFile(preload, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.moduleLoadList)));\n`);
  const [node, ...rest] = CLI_COMMAND;
  const result = await runCli(args, env, { ...opts, command: [node, '-r', preload, ...rest] });
  const list = JSON.parse(await readFile(out, 'utf8')) as string[];
  return { result, builtins: list.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length)) };
}

/** Node modules no short command should load unless it uses them (ws, http, tls; commander's child_process; readline for prompts). */
const HEAVY = ['child_process', 'http', 'https', 'tls', 'zlib', 'readline'];

test('burrow --help loads no command and none of the heavy node modules; client stdio over TCP loads no WebSocket, HTTP or TLS code', async (t) => {
  const help = await modulesLoaded(t, ['--help'], {});
  t.is(help.result.code, 0, help.result.stderr);
  t.regex(help.result.stdout, /^ {2}relay \[options\] +run the relay on a public host/m, 'the overview still lists each command with its summary');
  t.regex(help.result.stdout, /^ {2}client +reach servers through the relay/m);
  t.deepEqual(help.builtins.filter((m) => [...HEAVY, 'crypto', 'fs/promises'].includes(m)), [], 'the overview loads no command module');

  const w = await world();
  const stdio = await modulesLoaded(t, ['client', 'stdio', 'web', '--secret-file', 'web.secret', ...w.alice], { BURROW_PASSWORD: ALICE_PASSWORD }, {
    cwd: w.dir,
    input: 'GET / HTTP/1.0\r\nHost: web\r\n\r\n',
  });
  t.is(stdio.result.code, 0, stdio.result.stderr);
  t.true(stdio.result.stdout.endsWith(w.web.body), 'the request went through');
  t.true(stdio.builtins.includes('net'), 'the list is real: the stream needed node:net');
  t.deepEqual(stdio.builtins.filter((m) => HEAVY.includes(m)), []);
});

test('a wrong password and an unknown user both exit 3 with the same ERR_AUTH_FAILED line', async (t) => {
  const w = await world();
  const { clientPort, skeletonPort } = await authRelay();
  const relay = ['--relay', `127.0.0.1:${clientPort}`, '--fingerprint', w.fingerprint];
  const wrong = await runCli(['client', 'list', ...relay, '--user', 'alice'], { BURROW_PASSWORD: 'not the password' }, { cwd: w.dir });
  const unknown = await runCli(['client', 'list', ...relay, '--user', 'mallory'], { BURROW_PASSWORD: ALICE_PASSWORD }, { cwd: w.dir });
  t.is(wrong.code, 3, wrong.stderr);
  t.is(unknown.code, 3, unknown.stderr);
  t.is(errorCode(wrong.stderr), 'ERR_AUTH_FAILED');
  // The advice names the --user given; apart from that name the two lines are one.
  const asAlice = errorLines(unknown.stderr).map((line) => line.replaceAll('mallory', 'alice'));
  t.deepEqual(asAlice, errorLines(wrong.stderr), 'S5/S11: nothing tells an unknown user from a wrong password');
  t.is(wrong.stdout, '');
  t.is(unknown.stdout, '');

  const skeleton = await runCli(
    ['skeleton', '--relay', `127.0.0.1:${skeletonPort}`, '--fingerprint', w.fingerprint, '--user', 'home', '--server', `web=127.0.0.1:${w.web.port},secret-file=web.secret`],
    { BURROW_PASSWORD: 'not the password' }, { cwd: w.dir },
  );
  t.is(skeleton.code, 3, skeleton.stderr);
  t.is(errorCode(skeleton.stderr), 'ERR_AUTH_FAILED');
});

test('a relay that does not hold the pinned key is refused with exit 3 before anything is listed', async (t) => {
  const w = await world();
  const dir = await tempDir(t);
  const other = await runCli(['keys', 'generate', '--dir', join(dir, 'other-keys')]);
  t.is(other.code, 0, other.stderr);
  const otherFingerprint = other.stdout.trim();
  t.regex(otherFingerprint, FINGERPRINT_RE);
  t.not(otherFingerprint, w.fingerprint);

  const result = await runCli(['client', 'list', '--relay', `127.0.0.1:${w.clientPort}`, '--fingerprint', otherFingerprint, '--user', 'alice'], { BURROW_PASSWORD: ALICE_PASSWORD });
  t.is(result.code, 3, result.stderr);
  t.is(errorCode(result.stderr), 'ERR_RELAY_KEY_MISMATCH');
  t.is(result.stdout, '');
});

test('an unknown server id exits 4 from client stdio; client connect warns and forwards anyway', async (t) => {
  const w = await world();
  const env = { BURROW_PASSWORD: ALICE_PASSWORD };
  const stdio = await runCli(['client', 'stdio', 'nosuch', '--secret-file', 'web.secret', ...w.alice], env, { cwd: w.dir });
  t.is(stdio.code, 4, stdio.stderr);
  t.is(errorCode(stdio.stderr), 'ERR_UNKNOWN_SERVER');
  t.is(stdio.stdout, '');

  // A long-running forwarder outlives its server (issue 14): the id may be advertised later.
  const connect = spawnCli(t, ['client', 'connect', 'nosuch', '--listen', '127.0.0.1:0', '--secret-file', 'web.secret', ...w.alice], { cwd: w.dir, env });
  await connect.waitForLine(/^forwarding 127\.0\.0\.1:\d+ -> nosuch /);
  await connect.waitForLine(/warning: server nosuch is not listed \(yet\); this account can see: web, web-vault\./, { stream: 'stderr' });
  t.is(connect.child.exitCode, null, 'still forwarding');
});

test('client stdio with the wrong server secret exits 4 and the home server sees no connection', async (t) => {
  const w = await world();
  const dir = await tempDir(t);
  t.is((await runCli(['secret', 'generate', '--out', join(dir, 'wrong.secret')])).code, 0);

  const result = await runCli(['client', 'stdio', 'web-vault', '--secret-file', join(dir, 'wrong.secret'), ...w.alice], { BURROW_PASSWORD: ALICE_PASSWORD }, {
    cwd: w.dir,
    input: 'GET / HTTP/1.0\r\n\r\n',
  });
  t.is(result.code, 4, result.stderr);
  t.is(errorCode(result.stderr), 'ERR_E2E_HANDSHAKE_FAILED');
  t.is(result.stdout, '');
  t.is(w.vault.connections(), 0, 'S8: the skeleton touches its target only after the secret is proven');
});

test('client connect with the wrong server secret exits 4 at start, before forwarding anything', async (t) => {
  // client connect proves the secret with a probe before it listens, so a typo fails at once.
  const w = await world();
  const dir = await tempDir(t);
  t.is((await runCli(['secret', 'generate', '--out', join(dir, 'wrong.secret')])).code, 0);

  const result = await runCli(['client', 'connect', 'web-vault', '--listen', '127.0.0.1:0', '--secret-file', join(dir, 'wrong.secret'), ...w.alice], { BURROW_PASSWORD: ALICE_PASSWORD }, {
    cwd: w.dir,
  });
  t.is(result.code, 4, result.stderr);
  t.is(errorCode(result.stderr), 'ERR_E2E_HANDSHAKE_FAILED');
  t.false(result.stdout.includes('forwarding'), result.stdout);
  t.is(w.vault.connections(), 0, 'S8: the skeleton touches its target only after the secret is proven');
});

test('client connect checks the right secret at start without opening the home server', async (t) => {
  const w = await world();
  const connect = spawnCli(t, ['client', 'connect', 'web-vault', '--listen', '127.0.0.1:0', '--secret-file', 'vault.secret', ...w.alice], {
    cwd: w.dir,
    env: { BURROW_PASSWORD: ALICE_PASSWORD },
  });
  await connect.waitForLine(/^forwarding 127\.0\.0\.1:\d+ -> web-vault /);
  t.is(w.vault.connections(), 0, 'the start-up probe reaches the skeleton, not the server behind it');
});

test('SIGTERM right after the readiness line stops relay, skeleton and client connect with exit 0', async (t) => {
  // A supervisor may stop a service the moment it says it is ready: the signal must already be handled.
  const w = await world();
  const relayArgs = ['relay', '--host', '127.0.0.1', '--client-port', '0', '--skeleton-port', '0', '--keys', 'keys', '--users', 'users.json'];
  const failures: string[] = [];
  const startThenStop = async (name: string, args: string[], ready: RegExp, env: Record<string, string> = {}): Promise<void> => {
    const proc = spawnCli(t, args, { cwd: w.dir, env });
    await proc.waitForLine(ready);
    const exit = await proc.stop();
    if (exit.code !== 0) failures.push(`${name}: exit ${JSON.stringify(exit)}`);
  };
  const ROUNDS = 3;
  for (let i = 0; i < ROUNDS; i++) await startThenStop(`relay #${i + 1}`, relayArgs, /^relay SHA256:/);

  // The skeleton rounds use a relay of their own, so the shared relay's listing never changes.
  const own = spawnCli(t, relayArgs, { cwd: w.dir });
  const ports = await own.waitForLine(/^relay SHA256:\S+ clients on 127\.0\.0\.1:\d+, skeletons on 127\.0\.0\.1:(\d+)$/);
  const skeletonArgs = ['skeleton', '--relay', `127.0.0.1:${ports[1]}`, '--fingerprint', w.fingerprint, '--user', 'home', '--server', `web-sig=127.0.0.1:${w.vault.port},secret-file=vault.secret`];
  for (let i = 0; i < ROUNDS; i++) await startThenStop(`skeleton #${i + 1}`, skeletonArgs, /^skeleton serving web-sig /, { BURROW_PASSWORD: HOME_PASSWORD });

  const connectArgs = ['client', 'connect', 'web-vault', '--listen', '127.0.0.1:0', '--secret-file', 'vault.secret', ...w.alice];
  for (let i = 0; i < ROUNDS; i++) await startThenStop(`client connect #${i + 1}`, connectArgs, /^forwarding /, { BURROW_PASSWORD: ALICE_PASSWORD });

  t.deepEqual(failures, [], 'every command exits 0 on SIGTERM, however early');
  t.is(w.vault.connections(), 0);
});

test('a missing --relay is a usage error: exit 2 naming the flag', async (t) => {
  const w = await world();
  const result = await runCli(['client', 'list', '--fingerprint', w.fingerprint, '--user', 'alice'], { BURROW_PASSWORD: ALICE_PASSWORD });
  t.is(result.code, 2, result.stderr);
  t.is(errorCode(result.stderr), 'ERR_USAGE');
  t.true(errorLines(result.stderr).some((l) => l.includes('--relay')), result.stderr);
});

test('a config file with an unknown key exits 2 naming the key and the file; a good one works', async (t) => {
  const w = await world();
  const dir = await tempDir(t);
  const good = [`relay = "127.0.0.1:${w.clientPort}"`, `fingerprint = "${w.fingerprint}"`, 'user = "alice"'].join('\n');
  const goodFile = join(dir, 'client.toml');
  const badFile = join(dir, 'client-typo.toml');
  const relayFile = join(dir, 'relay.toml');
  await writeFile(goodFile, good + '\n');
  await writeFile(badFile, good + '\ncolour = "blue"\n');
  await writeFile(relayFile, 'host = "127.0.0.1"\nclient-port = 0\nskeleton-port = 0\nclient_prot = 7000\n');
  const env = { BURROW_PASSWORD: ALICE_PASSWORD };

  const ok = await runCli(['client', 'list', '--config', goodFile], env);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /^web\thttp\t/m);

  const bad = await runCli(['client', 'list', '--config', badFile], env);
  t.is(bad.code, 2, bad.stderr);
  t.is(errorCode(bad.stderr), 'ERR_CONFIG');
  const line = errorLines(bad.stderr).at(-1) ?? '';
  t.true(line.includes('colour') && line.includes(badFile), bad.stderr);

  const relay = await runCli(['relay', '--config', relayFile], {}, { cwd: w.dir });
  t.is(relay.code, 2, relay.stderr);
  t.is(errorCode(relay.stderr), 'ERR_CONFIG');
  const relayLine = errorLines(relay.stderr).at(-1) ?? '';
  t.true(relayLine.includes('client_prot') && relayLine.includes(relayFile), relay.stderr);
});
