/**
 * Turns a load tool's output into `metric value` lines for bench/run.sh:
 *   node dist/bench/parse-output.js iperf3 FILE   (iperf3 -J)       gbps, bytes
 *   node dist/bench/parse-output.js wrk FILE      (wrk --latency)   rps, p50_ms, p99_ms, requests, errors
 *   node dist/bench/parse-output.js redis FILE    (redis-benchmark --csv)  set_rps, get_rps, set_p50_ms, ...
 *   node dist/bench/parse-output.js json FILE KEY...  (a driver's JSON line) the named keys
 * Exits 1 with a message on stderr when the output does not hold the numbers.
 */
import { readFileSync } from 'node:fs';

const [tool, file, ...keys] = process.argv.slice(2);
const text = readFileSync(file ?? '/dev/stdin', 'utf8');

function fail(message: string): never {
  console.error(`parse-output ${tool}: ${message}`);
  process.exit(1);
}

function iperf3(): Record<string, number> {
  const start = text.indexOf('{');
  if (start < 0) fail('no JSON');
  const json = JSON.parse(text.slice(start)) as { error?: string; end?: { sum_received?: { bits_per_second: number; bytes: number } } };
  if (json.error) fail(json.error);
  const sum = json.end?.sum_received;
  if (!sum || !(sum.bytes > 0)) fail('no end.sum_received');
  return { gbps: sum.bits_per_second / 1e9, bytes: sum.bytes };
}

/** wrk prints 850.00us, 1.23ms, 2.00s, 1.5m */
function toMs(value: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(value);
  if (!m) fail(`bad duration ${value}`);
  return Number(m[1]) * ({ us: 0.001, ms: 1, s: 1000, m: 60000 } as Record<string, number>)[m[2]!]!;
}

function wrk(): Record<string, number> {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  const p50 = /^\s+50%\s+(\S+)/m.exec(text);
  const p99 = /^\s+99%\s+(\S+)/m.exec(text);
  const requests = /^\s+(\d+) requests in/m.exec(text);
  if (!rps || !p50 || !p99 || !requests) fail('no Requests/sec or latency distribution');
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  const errors = (sock ? sock.slice(1).reduce((s, n) => s + Number(n), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  return { rps: Number(rps[1]), p50_ms: toMs(p50[1]!), p99_ms: toMs(p99[1]!), requests: Number(requests[1]), errors };
}

function redis(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const cells = line.split(',').map((c) => c.replace(/^"|"$/g, ''));
    const test = cells[0]?.toLowerCase();
    if ((test === 'set' || test === 'get') && cells.length >= 7) {
      out[`${test}_rps`] = Number(cells[1]);
      out[`${test}_p50_ms`] = Number(cells[4]);
      out[`${test}_p99_ms`] = Number(cells[6]);
    }
  }
  if (!('set_rps' in out) || !('get_rps' in out)) fail('no SET and GET rows');
  return out;
}

function json(): Record<string, number> {
  const line = text.split('\n').filter((l) => l.startsWith('{')).at(-1);
  if (!line) fail('no JSON line');
  const obj = JSON.parse(line) as Record<string, unknown>;
  const out: Record<string, number> = {};
  for (const k of keys) if (typeof obj[k] === 'number' && Number.isFinite(obj[k])) out[k] = obj[k];
  return out;
}

const parsers: Record<string, () => Record<string, number>> = { iperf3, wrk, redis, json };
const parse = parsers[tool ?? ''];
if (!parse) fail('usage: parse-output iperf3|wrk|redis|json FILE [KEY...]');
for (const [k, v] of Object.entries(parse())) console.log(`${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`);
