/**
 * README.md's ssh recipe, as written: OpenSSH's ssh, with the README's config block and `burrow` on PATH,
 * runs `burrow client stdio` as its ProxyCommand and logs in to a real sshd (Debian
 * openssh-server) on loopback through relay and skeleton. ssh and sshd are required, not optional:
 * npm test's pretest installs them, and a missing one fails this test with a clear message.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile, spawn } from 'node:child_process';
import { access, constants, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cliEnv } from '../helpers/cli-process.js';
import { burrowOnPath } from '../helpers/walkthrough.js';
import { newSecret, PASSWORD, server, startTestSkeleton, startWorld, tempDir } from '../helpers/world.js';

/** Compiled tests live in dist/test/e2e/; the README at the project root. */
const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

const MISSING = 'is not installed: this test needs OpenSSH (apt-get install -y openssh-server openssh-client; the pretest step of npm test installs them as root)';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(program: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { timeout: opts.timeoutMs ?? 60_000, env: opts.env ?? process.env }, (err, stdout, stderr) => {
      if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') return reject(new Error(`${program} ${MISSING}`));
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** sshd must be started by its absolute path (it re-executes itself); it usually lives in an sbin. */
async function findSshd(): Promise<string> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs.filter((d) => d.startsWith('/'))) {
    const candidate = join(dir, 'sshd');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      continue; // not in this directory
    }
  }
  throw new Error(`sshd ${MISSING}`);
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

interface Sshd {
  port: number;
  /** Resolves with the first stderr line matching `re` (sshd -e logs to stderr). */
  waitFor(re: RegExp): Promise<string>;
}

/**
 * Starts `sshd -D -e` on a port that was free a moment ago and waits for "Server listening"; if another
 * process took the port in between, tries again with a new one.
 */
async function startSshd(t: ExecutionContext, dir: string, userKeyPub: string): Promise<Sshd> {
  const sshd = await findSshd();
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'hostkey')]);
  await copyFile(userKeyPub, join(dir, 'authorized_keys'));
  await mkdir('/run/sshd', { recursive: true }).catch((err: NodeJS.ErrnoException) => t.log(`cannot create /run/sshd (${err.code}); sshd may refuse to start`));

  let lastError = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const config = join(dir, 'sshd_config');
    await writeFile(config, [
      'ListenAddress 127.0.0.1', `Port ${port}`, `HostKey ${join(dir, 'hostkey')}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`, 'StrictModes no', 'UsePAM no', 'PermitRootLogin prohibit-password',
      'PasswordAuthentication no', 'KbdInteractiveAuthentication no', '',
    ].join('\n'));
    const child = spawn(sshd, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    const lines: string[] = [];
    const waiters = new Set<{ re: RegExp; resolve: (line: string) => void; reject: (err: Error) => void }>();
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const failAll = (why: string) => {
      for (const w of waiters) w.reject(new Error(`sshd ${why} before a line matched ${w.re}:\n${lines.join('\n')}`));
      waiters.clear();
    };
    child.once('error', (err) => failAll(`could not start (${err.message})`));
    createInterface({ input: child.stderr }).on('line', (line) => {
      lines.push(line);
      for (const w of waiters) if (w.re.test(line)) {
        waiters.delete(w);
        w.resolve(line);
      }
    }).on('close', () => failAll('exited'));
    const waitFor = (re: RegExp): Promise<string> => {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      if (child.exitCode !== null || child.signalCode !== null) return Promise.reject(new Error(`sshd exited:\n${lines.join('\n')}`));
      return new Promise((resolve, reject) => waiters.add({ re, resolve, reject }));
    };
    try {
      await waitFor(new RegExp(`^Server listening on 127\\.0\\.0\\.1 port ${port}\\.`));
    } catch (err) {
      lastError = (err as Error).message;
      child.kill('SIGTERM');
      await exited;
      if (/Address already in use/.test(lastError)) continue;
      throw err;
    }
    t.teardown(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    });
    return { port, waitFor };
  }
  throw new Error(`sshd could not listen after 3 attempts:\n${lastError}`);
}

/** The ssh config block of README.md's "ssh through burrow", as a user copies it. */
async function readmeSshConfig(): Promise<string> {
  const readme = await readFile(README, 'utf8');
  const section = /## ssh through burrow\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
  const block = [...section.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b?.includes('ProxyCommand'));
  if (!block?.includes('ProxyCommand burrow client stdio')) throw new Error('README.md: no ssh config block with a burrow ProxyCommand under "ssh through burrow"');
  return block;
}

test("ssh logs in to a real sshd through the README's ProxyCommand recipe, burrow on PATH", async (t) => {
  const dir = await tempDir(t);
  const userKey = join(dir, 'userkey');
  await run('ssh', ['-V']); // fails clearly when the OpenSSH client is missing
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', userKey]);
  const sshd = await startSshd(t, dir, `${userKey}.pub`);

  const world = await startWorld(t);
  const secret = newSecret();
  const skeleton = await startTestSkeleton(t, world, [server('home-ssh', sshd.port, secret, { protocol: 'ssh' })]);
  t.deepEqual(skeleton.advertised.accepted, ['home-ssh']);
  // The recipe's files, where it says: ~/.burrow/ of a home of this test's own.
  const home = join(dir, 'home');
  await mkdir(join(home, '.burrow'), { recursive: true });
  await writeFile(join(home, '.burrow', 'home-ssh.secret'), secret.reveal().toString('base64url') + '\n', { mode: 0o600 });
  await writeFile(join(home, '.burrow', 'alice.pass'), PASSWORD + '\n', { mode: 0o600 });

  // As written, but for the relay's address and fingerprint, and this machine's user.
  const user = userInfo().username;
  const config = (await readmeSshConfig())
    .replaceAll('relay.example.net:7000', `127.0.0.1:${world.relay.addresses.client.port}`)
    .replaceAll('SHA256:...', world.identity.fingerprint)
    .replace(/^(\s*)User me$/m, `$1User ${user}`);
  t.regex(config, /^Host home$/m);
  const configFile = join(dir, 'ssh_config');
  await writeFile(configFile, config);
  const env = cliEnv({ HOME: home, PATH: `${await burrowOnPath(t)}${delimiter}${process.env.PATH ?? ''}` });
  const ssh = await run('ssh', [
    '-F', configFile, '-i', userKey, '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', 'home', 'echo burrow-ssh-ok',
  ], { env });
  t.is(ssh.code, 0, ssh.stderr);
  t.is(ssh.stdout, 'burrow-ssh-ok\n');
  // sshd saw the login arrive from the skeleton on loopback, through the tunnel.
  t.regex(await sshd.waitFor(/^Accepted publickey for /), new RegExp(`^Accepted publickey for ${user} from 127\\.0\\.0\\.1 `));
});
