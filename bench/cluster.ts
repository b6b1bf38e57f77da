/**
 * Relay cluster benchmark (not part of npm test). A real redis-server and two `burrow relay --cluster`
 * processes on loopback; skeleton processes: one on relay A fronting `near` (pool 2), one on relay A
 * fronting `near-dial` (pool starting at 0: Dials until the skeleton's pool grows with demand), one on relay B only fronting `far`. From this
 * process, a client logged in at A opens N streams one after another to each (open() resolves once the
 * skeleton's target accepted) and prints stream setup p50/p99/max: same-relay pooled, same-relay dial,
 * cross-relay. Then login rate: logins as fast as `concurrency` callers can go for `seconds`, at relay A
 * alone, then spread over A and B. Bounded in count and time.
 *
 *   npx tsc -p . && node dist/bench/cluster.js [--opens 200] [--seconds 5] [--concurrency 16]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect, type BurrowClient } from '../client/index.js';
import type { RelayTarget } from '../shared/peer/relay-address.js';
import { Redacted } from '../shared/redacted.js';
import { percentile } from './echo-conn.js';
import { prepareRelayFolder, spawnBurrow, stop, type Proc } from './soak-procs.js';

const PASSWORD = 'cluster bench: correct horse battery staple';
const RELAY_READY = /^relay SHA256:\S+ clients on 127\.0\.0\.1:(\d+), skeletons on 127\.0\.0\.1:(\d+)$/;
const STORM_USERS = ['storm-1', 'storm-2', 'storm-3', 'storm-4'];

const { values } = parseArgs({ options: { opens: { type: 'string', default: '200' }, seconds: { type: 'string', default: '5' }, concurrency: { type: 'string', default: '16' } } });
const opens = Math.min(200, Math.max(1, Number(values.opens)));
const stormMs = Math.min(60, Math.max(1, Number(values.seconds))) * 1000;
const concurrency = Math.min(64, Math.max(1, Number(values.concurrency)));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function startRedis(): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited ${code}`)));
    child.once('error', reject);
  });
  return { url: `redis://127.0.0.1:${port}`, stop: () => void child.kill('SIGKILL') };
}

function stats(ms: number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 0.5).toFixed(2)} ms  p99 ${percentile(sorted, 0.99).toFixed(2)} ms  max ${sorted[sorted.length - 1]!.toFixed(2)} ms  (n=${sorted.length})`;
}

async function setupTimes(client: BurrowClient, id: string, secret: Redacted<Buffer>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < opens; i++) {
    const t0 = process.hrtime.bigint();
    const stream = await client.open(id, { secret });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    stream.destroy();
  }
  return times;
}

async function loginRate(targets: RelayTarget[]): Promise<{ perSecond: number; failed: number }> {
  const deadline = Date.now() + stormMs;
  let ok = 0;
  let failed = 0;
  await Promise.all(Array.from({ length: concurrency }, async (_, i) => {
    const relay = targets[i % targets.length]!;
    const user = STORM_USERS[i % STORM_USERS.length]!;
    while (Date.now() < deadline) {
      try {
        (await connect({ relay, user, password: new Redacted(PASSWORD) })).close();
        ok++;
      } catch {
        failed++;
      }
    }
  }));
  return { perSecond: ok / (stormMs / 1000), failed };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'burrow-cluster-bench-'));
  const env = { BURROW_PASSWORD: PASSWORD };
  const procs: Proc[] = [];
  const redis = await startRedis();
  try {
    const fingerprint = await prepareRelayFolder(dir, env, '*', STORM_USERS);
    const secret = new Redacted(Buffer.from((await readFile(join(dir, 'echo.secret'), 'utf8')).trim(), 'base64url'));
    const echo = createServer((s) => {
      s.on('error', () => s.destroy());
      s.pipe(s);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const echoPort = (echo.address() as AddressInfo).port;

    const relays: { client: RelayTarget; skeleton: string }[] = [];
    for (const id of ['a', 'b']) {
      const relay = spawnBurrow(`relay ${id}`, ['relay', '--host', '127.0.0.1', '--client-port', '0', '--skeleton-port', '0', '--keys', 'keys', '--users', 'users.json',
        '--cluster', redis.url, '--cluster-id', id, '--log-level', 'warn'], dir);
      procs.push(relay);
      const m = await relay.waitFor(RELAY_READY, 20_000);
      relays.push({ client: { host: '127.0.0.1', port: Number(m[1]), fingerprint }, skeleton: `127.0.0.1:${m[2]}` });
    }
    const [a, b] = [relays[0]!, relays[1]!];
    const skeleton = async (id: string, relay: string, pool: number): Promise<void> => {
      const p = spawnBurrow(`skeleton ${id}`, ['skeleton', '--relay', relay, '--fingerprint', fingerprint, '--user', 'home', '--pool', String(pool),
        '--server', `${id}=127.0.0.1:${echoPort},secret-file=echo.secret`, '--log-level', 'warn'], dir, env);
      procs.push(p);
      await p.waitFor(/^skeleton serving /, 20_000);
    };
    await skeleton('near', a.skeleton, 2);
    await skeleton('near-dial', a.skeleton, 0);
    await skeleton('far', b.skeleton, 2);

    const client = await connect({ relay: a.client, user: 'alice', password: new Redacted(PASSWORD) });
    // One warm-up open each, so the first-ever costs (JIT, first ticket) do not count.
    for (const id of ['near', 'near-dial', 'far']) (await client.open(id, { secret })).destroy();
    console.log(`cluster bench: 2 relays + redis on ${cpus().length} cores, ${opens} sequential opens each, client at relay A`);
    console.log(`  same relay, pooled       ${stats(await setupTimes(client, 'near', secret))}`);
    console.log(`  same relay, pool from 0  ${stats(await setupTimes(client, 'near-dial', secret))}`);
    console.log(`  cross relay (B dials A)  ${stats(await setupTimes(client, 'far', secret))}`);
    client.close();
    const one = await loginRate([a.client]);
    console.log(`  logins, relay A only     ${one.perSecond.toFixed(1)}/s (${concurrency} callers, ${stormMs / 1000} s, ${one.failed} failed)`);
    const two = await loginRate([a.client, b.client]);
    console.log(`  logins, relays A and B   ${two.perSecond.toFixed(1)}/s (${concurrency} callers, ${stormMs / 1000} s, ${two.failed} failed)`);
    echo.close();
  } finally {
    for (const p of procs.reverse()) await stop(p, 5000);
    redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
