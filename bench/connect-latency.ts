/**
 * Sequential fresh connections, each doing one small echo round trip: the time from connect() to the
 * echo being back (tunnel setup plus first byte). Bounded in count and in total time.
 *   node dist/bench/connect-latency.js --port P --count 500 [--warmup 20] [--size 32]
 *     [--timeout-ms 5000] [--deadline-ms 120000]
 * Prints one JSON line: { ok, failed, errors, p50_ms, p99_ms, mean_ms, max_ms }.
 */
import { parseArgs } from 'node:util';
import { EchoConn, errorCode, percentile } from './echo-conn.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string' }, count: { type: 'string', default: '500' }, warmup: { type: 'string', default: '20' },
    size: { type: 'string', default: '32' }, 'timeout-ms': { type: 'string', default: '5000' }, 'deadline-ms': { type: 'string', default: '120000' },
  },
});
const port = Number(values.port);
const count = Number(values.count);
const warmup = Number(values.warmup);
const size = Number(values.size);
const timeoutMs = Number(values['timeout-ms']);
const deadline = Date.now() + Number(values['deadline-ms']);

const times: number[] = [];
const errors: Record<string, number> = {};
let failed = 0;
for (let i = 0; i < warmup + count && Date.now() < deadline; i++) {
  const t0 = process.hrtime.bigint();
  let conn: EchoConn | undefined;
  try {
    conn = await EchoConn.open(port, timeoutMs);
    await conn.roundTrip(size, timeoutMs);
    if (i >= warmup) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  } catch (err) {
    if (i >= warmup) {
      failed++;
      const code = errorCode(err);
      errors[code] = (errors[code] ?? 0) + 1;
    }
  } finally {
    conn?.close();
  }
}
times.sort((a, b) => a - b);
const mean = times.reduce((s, t) => s + t, 0) / Math.max(1, times.length);
console.log(JSON.stringify({
  ok: times.length, failed, errors,
  p50_ms: percentile(times, 0.5), p99_ms: percentile(times, 0.99), mean_ms: mean, max_ms: times.at(-1) ?? NaN,
}));
