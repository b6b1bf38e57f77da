/**
 * Login storm against a running stream. A relay, a skeleton fronting an echo server and a `client
 * connect` forwarder run as real `burrow` processes on loopback. One long-lived stream through the
 * forwarder does back-to-back 32-byte echo round trips the whole time, first alone (baseline), then
 * while logins arrive as fast as the relay's defaults let one source address log in (its default cap of
 * not-yet-logged-in connections per source, 32 in flight), then alone again. Prints logins per second,
 * the relay's answers, and the stream's round-trip p50/p99/max in each phase: argon2 runs off the
 * relay's event loop, so the running stream must not stall. Bounded in count and time.
 *
 *   npx tsc -p . && node dist/bench/login-load.js [--seconds 10] [--concurrency 32] [--max-logins 2000]
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as tcpConnect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from '../client/index.js';
import { codeOf } from '../shared/errors.js';
import { Redacted } from '../shared/redacted.js';
import { percentile } from './echo-conn.js';
import { cpuSeconds } from './proc-tree.js';
import { prepareRelayFolder, spawnBurrow, stop, type Proc } from './soak-procs.js';

const PASSWORD = 'login-load: correct horse battery staple';
const RELAY_READY = /^relay SHA256:\S+ clients on 127\.0\.0\.1:(\d+), skeletons on 127\.0\.0\.1:(\d+)$/;
const USERS = ['storm-1', 'storm-2', 'storm-3', 'storm-4'];

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '32' },
    'max-logins': { type: 'string', default: '2000' },
  },
});
const stormMs = Math.min(120, Math.max(1, Number(values.seconds))) * 1000;
const concurrency = Math.min(256, Math.max(1, Number(values.concurrency)));
const maxLogins = Math.min(100_000, Math.max(1, Number(values['max-logins'])));

/** Back-to-back round trips on one tunneled connection, recorded per phase until stopped. */
class Pinger {
  phase = 'baseline';
  readonly rtts = new Map<string, number[]>();
  #stopped = false;
  readonly done: Promise<void>;

  constructor(private readonly socket: Socket) {
    this.done = this.#run();
  }

  stop(): Promise<void> {
    this.#stopped = true;
    return this.done;
  }

  async #run(): Promise<void> {
    const payload = Buffer.alloc(32, 0x61);
    while (!this.#stopped) {
      const t0 = process.hrtime.bigint();
      let got = 0;
      this.socket.write(payload);
      while (got < payload.length) {
        const [chunk] = (await once(this.socket, 'data')) as [Buffer];
        got += chunk.length;
      }
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const list = this.rtts.get(this.phase) ?? [];
      list.push(ms);
      this.rtts.set(this.phase, list);
    }
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'burrow-login-load-'));
  const env = { BURROW_PASSWORD: PASSWORD };
  const procs: Proc[] = [];
  try {
    const fingerprint = await prepareRelayFolder(dir, env, 'echo', USERS);

    const echo = createServer((s) => {
      s.on('error', () => s.destroy());
      s.pipe(s);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const echoPort = (echo.address() as AddressInfo).port;

    // The relay with its default limits: what a source address may do is what the defaults allow.
    const relay = spawnBurrow('relay', ['relay', '--host', '127.0.0.1', '--client-port', '0', '--skeleton-port', '0',
      '--keys', 'keys', '--users', 'users.json', '--log-level', 'warn'], dir);
    procs.push(relay);
    const ports = await relay.waitFor(RELAY_READY, 20_000);
    const [clientPort, skeletonPort] = [Number(ports[1]), Number(ports[2])];
    const skeleton = spawnBurrow('skeleton', ['skeleton', '--relay', `127.0.0.1:${skeletonPort}`, '--fingerprint', fingerprint,
      '--user', 'home', '--server', `echo=127.0.0.1:${echoPort},secret-file=echo.secret`, '--log-level', 'warn'], dir, env);
    procs.push(skeleton);
    await skeleton.waitFor(/^skeleton serving /, 20_000);
    const forwarder = spawnBurrow('forwarder', ['client', 'connect', 'echo', '--listen', '127.0.0.1:0', '--secret-file', 'echo.secret',
      '--relay', `127.0.0.1:${clientPort}`, '--fingerprint', fingerprint, '--user', 'alice'], dir, env);
    procs.push(forwarder);
    const forwardPort = Number((await forwarder.waitFor(/^forwarding 127\.0\.0\.1:(\d+) /, 20_000))[1]);

    const socket = tcpConnect({ host: '127.0.0.1', port: forwardPort, noDelay: true });
    await once(socket, 'connect');
    const pinger = new Pinger(socket);
    const phaseMs = Math.min(5_000, stormMs);
    await new Promise((r) => setTimeout(r, phaseMs));

    pinger.phase = 'storm';
    const relayPid = relay.child.pid!;
    const cpu0 = cpuSeconds([relayPid]);
    const answers = new Map<string, number>();
    let attempted = 0;
    const t0 = Date.now();
    const deadline = t0 + stormMs;
    const worker = async (w: number): Promise<void> => {
      while (Date.now() < deadline && attempted < maxLogins) {
        const n = attempted++;
        let code = 'ok';
        try {
          const client = await connect({
            relay: { host: '127.0.0.1', port: clientPort, fingerprint },
            user: USERS[(w + n) % USERS.length]!, password: new Redacted(PASSWORD),
          });
          client.close();
        } catch (err) {
          code = codeOf(err);
        }
        answers.set(code, (answers.get(code) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
    const stormSeconds = (Date.now() - t0) / 1000;
    const relayCpu = cpuSeconds([relayPid]) - cpu0;

    pinger.phase = 'after';
    await new Promise((r) => setTimeout(r, phaseMs));
    await pinger.stop();
    socket.destroy();
    echo.close();

    const ok = answers.get('ok') ?? 0;
    console.log('=== burrow login storm against a running stream ===');
    console.log(`logins          ${attempted} attempted in ${stormSeconds.toFixed(1)} s, ${concurrency} in flight from 127.0.0.1`);
    console.log(`answers         ${[...answers].map(([k, v]) => `${k} ${v}`).join(', ')}`);
    console.log(`login rate      ${(ok / stormSeconds).toFixed(1)} successful logins/s; relay CPU ${(relayCpu * 1000 / Math.max(1, ok)).toFixed(1)} ms per login`);
    console.log('stream round trips (32 B echo through client connect, relay, skeleton):');
    for (const phase of ['baseline', 'storm', 'after']) {
      const list = (pinger.rtts.get(phase) ?? []).sort((a, b) => a - b);
      if (list.length === 0) continue;
      console.log(`  ${phase.padEnd(9)} n=${String(list.length).padEnd(6)} p50 ${percentile(list, 0.5).toFixed(2)} ms  p99 ${percentile(list, 0.99).toFixed(2)} ms  max ${list[list.length - 1]!.toFixed(2)} ms`);
    }
  } finally {
    for (const p of procs.reverse()) await stop(p, 5_000);
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(`login-load: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
