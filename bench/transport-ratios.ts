/**
 * The WebSocket transport against plain TCP in one bench run: for each workload and metric, the ratio
 * burrow-ws / burrow (and burrow-ws-separate / burrow-separate) per repetition, as median and range,
 * beside each side's median. Prints Markdown.
 *   node dist/bench/transport-ratios.js --results R.tsv
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { results: { type: 'string' } } });
const rows = readFileSync(args.results ?? '', 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => l.split('\t'));

const METRICS: Record<string, string[]> = {
  iperf1: ['gbps', 'cpu_s_per_gib'], iperf4: ['gbps', 'cpu_s_per_gib'], wrk_ka: ['rps', 'p50_ms'], wrk_close: ['rps', 'p50_ms'],
  connect: ['p50_ms', 'p99_ms'], redis: ['set_rps', 'get_rps'],
};
const PAIRS: [string, string][] = [['burrow-ws', 'burrow'], ['burrow-ws-separate', 'burrow-separate']];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const value = (rep: string, wl: string, ct: string, metric: string): number | undefined => {
  const row = rows.find((r) => r[0] === rep && r[1] === wl && r[2] === ct && r[3] === metric);
  return row ? Number(row[4]) : undefined;
};
const reps = [...new Set(rows.map((r) => r[0]!))];
const fmt = (n: number): string => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2));

const lines = ['| workload | metric | WebSocket (median) | TCP (median) | ratio ws/tcp: median (min-max), n |', '|---|---|---|---|---|'];
for (const [ws, tcp] of PAIRS) {
  for (const [wl, metrics] of Object.entries(METRICS)) {
    for (const metric of metrics) {
      const pairs = reps.map((rep) => [value(rep, wl, ws, metric), value(rep, wl, tcp, metric)] as const).filter((p): p is readonly [number, number] => p[0] !== undefined && p[1] !== undefined && p[1] !== 0);
      if (pairs.length === 0) continue;
      const ratios = pairs.map(([a, b]) => a / b);
      lines.push(`| ${wl} (${ws} / ${tcp}) | ${metric} | ${fmt(median(pairs.map((p) => p[0])))} | ${fmt(median(pairs.map((p) => p[1])))} | ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}), ${ratios.length} |`);
    }
  }
}
console.log(lines.join('\n'));
