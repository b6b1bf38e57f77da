/**
 * Many concurrent idle connections through a tunnel: sums the tunnel's memory (RSS, PSS over the
 * process trees of --pids) before, opens --count connections (each proves itself with a one-byte echo),
 * lets them settle, sums memory again, then checks that every one still does a one-byte round trip.
 *   node dist/bench/idle-conns.js --port P --count 1000 [--pids "1 2 3"] [--concurrency 100]
 *     [--timeout-ms 15000] [--settle-ms 2000] [--deadline-ms 300000]
 * Prints one JSON line. Exits 0 even when connections failed: the counts say so.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { EchoConn, errorCode } from './echo-conn.js';
import { memory, parsePids } from './proc-tree.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string' }, count: { type: 'string', default: '1000' }, pids: { type: 'string', default: '' },
    concurrency: { type: 'string', default: '100' }, 'timeout-ms': { type: 'string', default: '15000' },
    'settle-ms': { type: 'string', default: '2000' }, 'deadline-ms': { type: 'string', default: '300000' },
  },
});
const port = Number(values.port);
const count = Number(values.count);
const roots = parsePids([values.pids]);
const concurrency = Number(values.concurrency);
const timeoutMs = Number(values['timeout-ms']);
const deadline = Date.now() + Number(values['deadline-ms']);

/** Runs fn(0..n-1) with at most `limit` in flight; stops starting new ones after the deadline. */
async function pool(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n && Date.now() < deadline) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

function tally(into: Record<string, number>, err: unknown): void {
  const code = errorCode(err);
  into[code] = (into[code] ?? 0) + 1;
}

const before = memory(roots);
const conns: (EchoConn | undefined)[] = new Array(count);
const openErrors: Record<string, number> = {};
const t0 = Date.now();
await pool(count, concurrency, async (i) => {
  try {
    const conn = await EchoConn.open(port, timeoutMs);
    conns[i] = conn;
    await conn.roundTrip(1, timeoutMs);
  } catch (err) {
    conns[i]?.close();
    conns[i] = undefined;
    tally(openErrors, err);
  }
});
const openSeconds = (Date.now() - t0) / 1000;
const opened = conns.filter(Boolean).length;
await sleep(Number(values['settle-ms']));
const after = memory(roots);

const verifyErrors: Record<string, number> = {};
let verified = 0;
await pool(count, concurrency, async (i) => {
  const conn = conns[i];
  if (!conn) return;
  try {
    await conn.roundTrip(1, timeoutMs);
    verified++;
  } catch (err) {
    tally(verifyErrors, err);
  }
});
for (const conn of conns) conn?.close();

const per = (a: number, b: number): number => (opened > 0 ? (b - a) / opened : NaN);
console.log(JSON.stringify({
  count, opened, open_seconds: openSeconds, open_errors: openErrors, verified, verify_errors: verifyErrors,
  processes: after.processes, rss_before_kib: before.rssKiB, rss_after_kib: after.rssKiB,
  pss_before_kib: before.pssKiB, pss_after_kib: after.pssKiB,
  rss_per_conn_kib: per(before.rssKiB, after.rssKiB), pss_per_conn_kib: per(before.pssKiB, after.pssKiB),
}));
process.exit(0);
