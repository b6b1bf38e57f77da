/**
 * Soak: a relay, a skeleton fronting an echo server and a `client connect` forwarder, all real `burrow`
 * processes on loopback, carry thousands of checksummed streams of random sizes at a bounded concurrency
 * while the relay is restarted every ~30 s, by SIGTERM and by kill -9 in turn. Prints what started,
 * finished, failed (with reasons, split into "around a restart" and "steady state") and whether any
 * byte came back corrupted. Run it with bench/soak.sh (not part of npm test).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { prepareRelayFolder, spawnBurrow, stop, type Proc } from './soak-procs.js';
import { randomSize, runStream } from './soak-stream.js';

const PASSWORD = 'soak: correct horse battery staple';
const RELAY_READY = /^relay SHA256:\S+ clients on 127\.0\.0\.1:(\d+), skeletons on 127\.0\.0\.1:(\d+)$/;
/** Failures this long after a relay came back still count as part of that restart. */
const RECOVERY_WINDOW_MS = 10_000;

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
    'restart-every': { type: 'string', default: '30' },
    'max-size': { type: 'string', default: String(1024 * 1024) },
  },
});
const minutes = Number(values.minutes);
if (!(minutes > 0) || minutes > 60) {
  console.error(`soak: --minutes must be more than 0 and at most 60 (got ${values.minutes})`);
  process.exit(2);
}
const concurrency = Math.max(1, Math.min(64, Number(values.concurrency)));
const restartEveryMs = Number(values['restart-every']) * 1000;
const maxSize = Number(values['max-size']);

const stats = {
  started: 0, finished: 0, bytes: 0, corrupted: 0,
  failedNearRestart: new Map<string, number>(), failedSteady: new Map<string, number>(),
  restarts: [] as string[], unexpectedExits: [] as string[],
};
let relayDownSince: number | undefined = Date.now();
let relayUpAt = 0;
let stopping = false;
let started = Date.now();
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
let resume: Promise<void> = Promise.resolve();
let release: () => void = () => undefined;
/** Set while waiting for the first stream that succeeds after a restart. */
let recovering: { resolve: (ms: number) => void } | undefined;
const count = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'burrow-soak-'));
  const env = { BURROW_PASSWORD: PASSWORD };
  const fingerprint = await prepareRelayFolder(dir, env, 'echo');

  const echo = createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => s.destroy());
    s.pipe(s);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const echoPort = (echo.address() as AddressInfo).port;

  const relayArgs = (c: number, s: number): string[] => [
    'relay', '--host', '127.0.0.1', '--client-port', String(c), '--skeleton-port', String(s), '--keys', 'keys', '--users', 'users.json',
    '--ping-interval', '2', '--dead-after', '6', '--drain', '5', '--log-level', 'warn',
  ];
  let relay = spawnBurrow('relay', relayArgs(0, 0), dir);
  const ports = await relay.waitFor(RELAY_READY, 20_000);
  const [clientPort, skeletonPort] = [Number(ports[1]), Number(ports[2])];
  relayDownSince = undefined;
  relayUpAt = Date.now();

  const skeletonArgs = ['skeleton', '--relay', `127.0.0.1:${skeletonPort}`, '--fingerprint', fingerprint, '--user', 'home',
    '--server', `echo=127.0.0.1:${echoPort},secret-file=echo.secret`, '--log-level', 'warn'];
  const forwarderArgs = ['client', 'connect', 'echo', '--listen', '127.0.0.1:0', '--secret-file', 'echo.secret',
    '--relay', `127.0.0.1:${clientPort}`, '--fingerprint', fingerprint, '--user', 'alice'];
  const peers: Record<string, Proc> = {};
  const everyPeer: Proc[] = [];
  let forwardPort = 0;
  /** Starts a peer; once it was ready, restarts it if it ever exits while the soak runs (and says so). */
  const keep = async (name: string, args: string[], ready: RegExp): Promise<RegExpMatchArray> => {
    const p = spawnBurrow(name, args, dir, env);
    peers[name] = p;
    everyPeer.push(p);
    const m = await p.waitFor(ready, 20_000);
    void p.exited.then(({ code, signal }) => {
      if (stopping) return;
      stats.unexpectedExits.push(`${name} exited (code ${code}, signal ${signal}) at ${elapsed()}; restarted`);
      keep(name, args, ready).then((again) => { if (name === 'forwarder') forwardPort = Number(again[1]); }, (err: unknown) => {
        console.error(`soak: could not restart the ${name}: ${(err as Error).message}`);
      });
    });
    return m;
  };
  await keep('skeleton', skeletonArgs, /^skeleton serving /);
  forwardPort = Number((await keep('forwarder', forwarderArgs, /^forwarding 127\.0\.0\.1:(\d+) /))[1]);

  started = Date.now();
  const deadline = started + minutes * 60_000;
  const worker = async (): Promise<void> => {
    while (!stopping && Date.now() < deadline) {
      await resume;
      stats.started++;
      const startedAt = Date.now();
      const outcome = await runStream(forwardPort, randomSize(maxSize), 30_000);
      if (outcome.kind === 'ok') {
        stats.finished++;
        stats.bytes += outcome.bytes;
        if (recovering && startedAt >= relayUpAt) {
          recovering.resolve(Date.now() - relayUpAt);
          recovering = undefined;
        }
      } else if (outcome.kind === 'corrupted') {
        stats.corrupted++;
        console.error(`CORRUPTED stream: first bad byte at offset ${outcome.at}`);
      } else {
        const near = relayDownSince !== undefined || Date.now() - relayUpAt < RECOVERY_WINDOW_MS;
        count(near ? stats.failedNearRestart : stats.failedSteady, outcome.reason);
        // Do not spin on a relay that is away.
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);

  let kill9 = false;
  while (Date.now() + restartEveryMs < deadline) {
    await new Promise((resolve) => setTimeout(resolve, restartEveryMs));
    const how = kill9 ? 'kill -9' : 'SIGTERM';
    kill9 = !kill9;
    resume = new Promise((resolve) => { release = resolve; });
    relayDownSince = Date.now();
    relay.child.kill(how === 'kill -9' ? 'SIGKILL' : 'SIGTERM');
    const exit = await relay.exited;
    relay = spawnBurrow('relay', relayArgs(clientPort, skeletonPort), dir);
    await relay.waitFor(RELAY_READY, 20_000);
    const downMs = Date.now() - relayDownSince;
    relayDownSince = undefined;
    relayUpAt = Date.now();
    const entry = `${elapsed()}: ${how}, relay exit ${exit.code ?? exit.signal}, down ${downMs} ms`;
    const index = stats.restarts.push(`${entry}, no stream succeeded afterwards`) - 1;
    void new Promise<number>((resolve) => { recovering = { resolve }; }).then((ms) => {
      stats.restarts[index] = `${entry}, first good stream ${ms} ms after the relay was ready`;
    });
    release();
    console.log(`[${elapsed()}] relay restarted after ${how} (exit ${exit.code ?? exit.signal}, down ${downMs} ms); ${stats.finished}/${stats.started} streams ok so far`);
  }
  await Promise.all(workers);
  stopping = true;
  for (const p of [peers.forwarder, peers.skeleton, relay]) if (p) await stop(p);
  echo.close();
  await rm(dir, { recursive: true, force: true });
  // Why the forwarder could not open streams, from its own log lines (warn level).
  const openErrors = new Map<string, number>();
  for (const p of everyPeer) {
    for (const line of p.lines) {
      const rec = line.startsWith('{') ? (JSON.parse(line) as { msg?: string; code?: string }) : {};
      if (rec.msg === 'could not open stream') count(openErrors, rec.code ?? '?');
    }
  }
  report(openErrors);
}

function report(openErrors: Map<string, number>): void {
  const failed = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
  const lines = (m: Map<string, number>): string[] => [...m].sort((a, b) => b[1] - a[1]).map(([why, n]) => `      ${n}  ${why}`);
  console.log('\n=== burrow soak ===');
  console.log(`duration          ${minutes} min, concurrency ${concurrency}, sizes 1 B..${maxSize} B (log-uniform)`);
  console.log(`relay restarts    ${stats.restarts.length}`);
  for (const r of stats.restarts) console.log(`      ${r}`);
  console.log(`streams started   ${stats.started}`);
  console.log(`streams finished  ${stats.finished} (verified byte for byte)`);
  console.log(`streams failed    ${failed(stats.failedNearRestart) + failed(stats.failedSteady)}`);
  console.log(`   around a relay restart (down, or up less than ${RECOVERY_WINDOW_MS / 1000} s): ${failed(stats.failedNearRestart)}`);
  for (const l of lines(stats.failedNearRestart)) console.log(l);
  console.log(`   in steady state: ${failed(stats.failedSteady)}`);
  for (const l of lines(stats.failedSteady)) console.log(l);
  console.log(`   forwarder 'could not open stream' by code:`);
  for (const l of lines(openErrors)) console.log(l);
  console.log(`bytes verified    ${stats.bytes} (${(stats.bytes / 1024 / 1024).toFixed(1)} MiB each way)`);
  console.log(`corrupted         ${stats.corrupted}`);
  console.log(`unexpected exits  ${stats.unexpectedExits.length}`);
  for (const e of stats.unexpectedExits) console.log(`      ${e}`);
  process.exitCode = stats.corrupted === 0 && stats.finished > 0 ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(`soak: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
