/**
 * Real `burrow` processes for the fault tests: a temp folder with relay keys, a users file and server
 * secrets; a relay, skeletons and client forwarders spawned as child processes whose output lines are
 * kept (fault-lines.ts). Every process is stopped in t.teardown; a frozen one is killed there first.
 */
import test, { type ExecutionContext } from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSecret } from '../../shared/cli/secret-file.js';
import type { RelayTarget } from '../../shared/peer/relay-address.js';
import { generateRelayKeys } from '../../shared/crypto/relay-key-files.js';
import { runCli, spawnCli, type CliProcess, type CliResult } from './cli-process.js';
import { LineLog, type LogRecord } from './fault-lines.js';
import { PASSWORD, privateLoopback, tempDir, writeUsers, type UserSpec } from './world.js';

export const FAULT_USERS: Record<string, UserSpec> = {
  alice: { roles: ['client'], access: ['*'] },
  home: { roles: ['skeleton'], serve: ['*'] },
};

/** Short heartbeats so dead peers are found in seconds. */
export const FAST_HEARTBEAT = ['--ping-interval', '1', '--dead-after', '3'];

/** Every fault test runs over plain TCP and over the relay's WebSocket endpoint (ws://, same behaviour). */
export type Transport = 'tcp' | 'ws';
export const WS_FAULT_PATH = '/fault-ws';
const WS_READY = /^WebSocket endpoint on 127\.\d+\.\d+\.\d+:(\d+), path /;

/**
 * Registers `impl` once per transport; the TCP run keeps the plain title. The ws:// runs are serial
 * (ava runs them one at a time, before the concurrent ones): a file's peak of concurrent processes
 * stays what it was, and its heartbeat deadlines (seconds) hold on a loaded 2-core machine.
 */
export function overBothTransports(title: string, impl: (t: ExecutionContext, transport: Transport) => Promise<void>, opts: { serial?: boolean } = {}): void {
  if (opts.serial) test.serial(title, (t) => impl(t, 'tcp'));
  else test(title, (t) => impl(t, 'tcp'));
  test.serial(`${title} [over ws://]`, (t) => impl(t, 'ws'));
}

export const RELAY_READY = /^relay (SHA256:\S+) clients on 127\.\d+\.\d+\.\d+:(\d+), skeletons on 127\.\d+\.\d+\.\d+:(\d+)$/;

export interface FaultWorld {
  t: ExecutionContext;
  dir: string;
  keysDir: string;
  usersFile: string;
  fingerprint: string;
  transport: Transport;
  /**
   * The relay's address: a loopback address of this world's own, so a relay restarted "on the same
   * ports" finds them free. On 127.0.0.1 a port-0 listener of a parallel test, or a skeleton's own
   * reconnect (a socket connected to itself), could take the port in between.
   */
  host: string;
  /** The secret file of a server id (made on first use). */
  secretFile(id: string): Promise<string>;
}

export interface Proc extends CliProcess {
  name: string;
  log: LineLog;
}

export interface RelayProc extends Proc {
  clientPort: number;
  skeletonPort: number;
  /** When the ready line was seen (Date.now()). */
  readyAt: number;
}

export async function faultWorld(t: ExecutionContext, users: Record<string, UserSpec> = FAULT_USERS, transport: Transport = 'tcp'): Promise<FaultWorld> {
  const dir = await tempDir(t);
  const keysDir = join(dir, 'keys');
  const usersFile = join(dir, 'users.json');
  const identity = await generateRelayKeys(keysDir);
  await writeUsers(usersFile, users);
  const secrets = new Map<string, Promise<string>>();
  const secretFile = (id: string): Promise<string> => {
    let file = secrets.get(id);
    if (!file) {
      const path = join(dir, `${id}.secret`);
      file = writeFile(path, `${generateSecret().reveal()}\n`, { mode: 0o600 }).then(() => path);
      secrets.set(id, file);
    }
    return file;
  };
  return { t, dir, keysDir, usersFile, fingerprint: identity.fingerprint, transport, host: privateLoopback(), secretFile };
}

/** --relay for the relay port `port`: HOST:PORT, or the WebSocket URL (whose port serves both roles). */
export function relayAddress(w: FaultWorld, port: number): string {
  return w.transport === 'ws' ? `ws://${w.host}:${port}${WS_FAULT_PATH}` : `${w.host}:${port}`;
}

/** The library's RelayTarget for the relay port `port`. */
export function relayTarget(w: FaultWorld, port: number): RelayTarget {
  return { host: w.host, port, fingerprint: w.fingerprint, ...(w.transport === 'ws' ? { ws: { tls: false, path: WS_FAULT_PATH } } : {}) };
}

/** spawnCli with every output line kept; stopped in teardown (SIGKILL first if it was frozen). */
export function spawnWatched(t: ExecutionContext, name: string, args: readonly string[], env: Record<string, string> = {}, cwd?: string): Proc {
  const proc = spawnCli(t, args, { env, ...(cwd !== undefined ? { cwd } : {}) });
  const log = new LineLog(proc.child, name);
  // Registered after spawnCli's own stop(), so it runs first: a stopped process cannot act on SIGTERM.
  t.teardown(() => {
    if (proc.child.exitCode === null && proc.child.signalCode === null && frozen.has(proc.child.pid ?? -1)) proc.child.kill('SIGKILL');
  });
  return { ...proc, name, log };
}

const frozen = new Set<number>();

/** SIGSTOP: the process keeps its sockets open and answers nothing. */
export function freeze(proc: Proc): void {
  frozen.add(proc.child.pid ?? -1);
  proc.child.kill('SIGSTOP');
}

/**
 * A relay process. Over ws:// its WebSocket port stands for both relay ports (clientPort and
 * skeletonPort are that port; a restart on "the same ports" reuses it), its TCP ports are 0.
 */
export async function startRelay(
  w: FaultWorld, opts: { args?: string[]; clientPort?: number; skeletonPort?: number; name?: string } = {},
): Promise<RelayProc> {
  const ws = w.transport === 'ws';
  const proc = spawnWatched(w.t, opts.name ?? 'relay', [
    'relay', '--host', w.host, '--client-port', String(ws ? 0 : opts.clientPort ?? 0), '--skeleton-port', String(ws ? 0 : opts.skeletonPort ?? 0),
    ...(ws ? ['--ws-port', String(opts.clientPort ?? 0), '--ws-path', WS_FAULT_PATH] : []),
    '--keys', w.keysDir, '--users', w.usersFile, ...(opts.args ?? []),
  ]);
  const m = await proc.waitForLine(RELAY_READY);
  if (ws) {
    const port = Number((await proc.waitForLine(WS_READY))[1]);
    return { ...proc, clientPort: port, skeletonPort: port, readyAt: Date.now() };
  }
  return { ...proc, clientPort: Number(m[2]), skeletonPort: Number(m[3]), readyAt: Date.now() };
}

export interface ServerSpec {
  id: string;
  port: number;
}

export async function serverArg(w: FaultWorld, s: ServerSpec): Promise<string> {
  return `${s.id}=127.0.0.1:${s.port},secret-file=${await w.secretFile(s.id)},protocol=tcp,description=fault-${s.id}`;
}

/** A skeleton process; resolves once it printed its ready line. `servers` may be empty when --config names them. */
export async function startSkeleton(
  w: FaultWorld, skeletonPort: number, servers: ServerSpec[], opts: { user?: string; args?: string[]; name?: string } = {},
): Promise<Proc> {
  const serverArgs = (await Promise.all(servers.map((s) => serverArg(w, s)))).flatMap((spec) => ['--server', spec]);
  const proc = spawnWatched(w.t, opts.name ?? 'skeleton', [
    'skeleton', '--relay', relayAddress(w, skeletonPort), '--fingerprint', w.fingerprint, '--user', opts.user ?? 'home', ...serverArgs, ...(opts.args ?? []),
  ], { BURROW_PASSWORD: PASSWORD });
  await proc.waitForLine(/^skeleton serving /);
  return proc;
}

export function clientArgs(w: FaultWorld, clientPort: number, user = 'alice'): string[] {
  return ['--relay', relayAddress(w, clientPort), '--fingerprint', w.fingerprint, '--user', user];
}

/** `client connect ID --listen 127.0.0.1:0` at log level info; resolves with the local port once forwarding. */
export async function startForwarder(
  w: FaultWorld, clientPort: number, id: string, opts: { user?: string; password?: string; name?: string } = {},
): Promise<Proc & { port: number }> {
  const proc = spawnWatched(w.t, opts.name ?? `forwarder ${id}`, [
    'client', 'connect', id, '--listen', '127.0.0.1:0', '--secret-file', await w.secretFile(id), '--log-level', 'info', ...clientArgs(w, clientPort, opts.user),
  ], { BURROW_PASSWORD: opts.password ?? PASSWORD });
  const m = await proc.waitForLine(/^forwarding 127\.0\.0\.1:(\d+) -> /);
  return { ...proc, port: Number(m[1]) };
}

/** A fresh `client list --json` process. */
export function clientList(w: FaultWorld, clientPort: number, opts: { user?: string; password?: string } = {}): Promise<CliResult> {
  return runCli(['client', 'list', '--json', ...clientArgs(w, clientPort, opts.user)], { BURROW_PASSWORD: opts.password ?? PASSWORD }, { timeoutMs: 30_000 });
}

/** The ids a fresh `client list --json` shows; throws with its output if it failed. */
export async function listedIds(w: FaultWorld, clientPort: number): Promise<string[]> {
  const r = await clientList(w, clientPort);
  if (r.code !== 0) throw new Error(`client list exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return (JSON.parse(r.stdout) as { id: string }[]).map((s) => s.id).sort();
}

/** Runs `burrow users ...` on the world's users file. */
export function usersCli(w: FaultWorld, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(['users', ...args, '--users', w.usersFile], env);
}

/** The skeleton logged 'servers advertised' with exactly these ids, at or after `after`. */
export function advertised(proc: Proc, ids: string[], after: number, timeoutMs = 20_000): Promise<string> {
  const want = JSON.stringify([...ids].sort());
  const match = (rec: LogRecord): boolean => rec.msg === 'servers advertised' && Array.isArray(rec.servers) && JSON.stringify([...(rec.servers as string[])].sort()) === want;
  return proc.log.waitFor(match, { after, timeoutMs });
}

/** True while the process has not exited. */
export function running(proc: Proc): boolean {
  return proc.child.exitCode === null && proc.child.signalCode === null;
}
