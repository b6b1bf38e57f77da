/**
 * Turns bench/run.sh's raw results into docs/BENCHMARKS.md (and prints it): medians with min-max per
 * metric and contender, ratios to "direct" and to "OpenSSH aes128-gcm", the machine, the versions, the
 * exact command, and every failure or warning the run saw.
 *   node dist/bench/report.js --results R.tsv --failures F.tsv --meta M.tsv [--notes N.tsv] --out FILE
 * results: rep, workload, contender, metric, value; failures/notes: rep, workload, contender, text.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: { results: { type: 'string' }, failures: { type: 'string' }, notes: { type: 'string' }, meta: { type: 'string' }, out: { type: 'string' } },
});

function rows(file: string | undefined): string[][] {
  if (!file || !existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => l.split('\t'));
}

const meta = new Map(rows(args.meta).map(([k, ...v]) => [k ?? '', v.join('\t')]));
const m = (key: string): string => meta.get(key) ?? '';

const CONTENDERS: Record<string, string> = {
  direct: 'direct',
  haproxy: 'haproxy ×3',
  'ssh-default': `OpenSSH default (${m('ssh_default_cipher').replace('@openssh.com', '') || 'default'})`,
  'ssh-gcm': 'OpenSSH aes128-gcm',
  burrow: 'burrow',
  'burrow-separate': 'burrow --separate-streams',
  'burrow-ws': 'burrow over ws:// through nginx',
  'burrow-ws-separate': 'burrow over ws:// through nginx, --separate-streams',
};
const contenders = m('contenders').split(',').filter((c) => c in CONTENDERS);

interface Metric {
  key: string;
  label: string;
  unit: string;
  higher: boolean;
  digits: number;
  scale?: number;
  ratio?: boolean;
}

const dur = m('duration_s');
function metricsOf(workload: string): Metric[] {
  const throughput = (what: string): Metric[] => [
    { key: 'gbps', label: `${what}: throughput`, unit: 'Gbit/s', higher: true, digits: 2 },
    { key: 'cpu_s_per_gib', label: `${what}: tunnel CPU`, unit: 'CPU-s/GiB', higher: false, digits: 2 },
  ];
  const http = (what: string): Metric[] => [
    { key: 'rps', label: `${what}: requests/s`, unit: 'req/s', higher: true, digits: 0 },
    { key: 'p50_ms', label: `${what}: p50`, unit: 'ms', higher: false, digits: 2 },
    { key: 'p99_ms', label: `${what}: p99`, unit: 'ms', higher: false, digits: 2 },
    { key: 'cpu_ms_per_kreq', label: `${what}: tunnel CPU`, unit: 'CPU-ms/1k req', higher: false, digits: 0 },
    { key: 'errors', label: `${what}: errors`, unit: 'count', higher: false, digits: 0, ratio: false },
  ];
  switch (workload) {
    case 'iperf1': return throughput(`iperf3 1 stream, ${dur} s`);
    case 'iperf4': return throughput(`iperf3 -P 4, ${dur} s`);
    case 'wrk_close': return http('wrk Connection: close');
    case 'wrk_ka': return http('wrk keep-alive');
    case 'connect': return [
      { key: 'p50_ms', label: `${m('connect_count')} fresh connections + echo: p50`, unit: 'ms', higher: false, digits: 2 },
      { key: 'p99_ms', label: `${m('connect_count')} fresh connections + echo: p99`, unit: 'ms', higher: false, digits: 2 },
    ];
    case 'redis': return [
      { key: 'set_rps', label: 'redis-benchmark SET', unit: 'req/s', higher: true, digits: 0 },
      { key: 'get_rps', label: 'redis-benchmark GET', unit: 'req/s', higher: true, digits: 0 },
    ];
  }
  const idle = /^idle-(\d+)$/.exec(workload);
  if (idle) {
    const n = Number(idle[1]).toLocaleString('en-US');
    return [
      { key: 'pss_per_conn_kib', label: `${n} idle connections: PSS per connection`, unit: 'KiB', higher: false, digits: 1 },
      { key: 'rss_per_conn_kib', label: `${n} idle connections: RSS per connection`, unit: 'KiB', higher: false, digits: 1 },
      { key: 'pss_before_kib', label: `${n} idle connections: tunnel PSS before`, unit: 'MiB', higher: false, digits: 1, scale: 1 / 1024 },
      { key: 'open_seconds', label: `${n} idle connections: time to open all`, unit: 's', higher: false, digits: 2 },
      { key: 'verified', label: `${n} idle connections: still working after`, unit: `of ${n}`, higher: true, digits: 0, ratio: false },
    ];
  }
  return [];
}

// values[workload][metric][contender] = number[] (one per repetition)
const values = new Map<string, Map<string, Map<string, number[]>>>();
const workloads: string[] = [];
for (const [, wl = '', ct = '', key = '', v = ''] of rows(args.results)) {
  if (!values.has(wl)) {
    values.set(wl, new Map());
    workloads.push(wl);
  }
  const byMetric = values.get(wl)!;
  if (!byMetric.has(key)) byMetric.set(key, new Map());
  const byCt = byMetric.get(key)!;
  byCt.set(ct, [...(byCt.get(ct) ?? []), Number(v)]);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function fmt(x: number, metric: Metric): string {
  return (x * (metric.scale ?? 1)).toLocaleString('en-US', { minimumFractionDigits: metric.digits, maximumFractionDigits: metric.digits });
}

function cell(xs: number[] | undefined, metric: Metric): string {
  if (!xs || xs.length === 0) return '—';
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const spread = xs.length > 1 && fmt(lo, metric) !== fmt(hi, metric) ? ` (${fmt(lo, metric)}–${fmt(hi, metric)})` : '';
  return fmt(median(xs), metric) + spread;
}

const measured: { wl: string; metric: Metric }[] = [];
for (const wl of workloads) for (const metric of metricsOf(wl)) if (values.get(wl)?.has(metric.key)) measured.push({ wl, metric });

const get = (wl: string, key: string, ct: string): number[] | undefined => values.get(wl)?.get(key)?.get(ct);
const header = (first: string, cols: string[]): string => `| ${first} | ${cols.join(' | ')} |\n|---|${cols.map(() => '---:').join('|')}|\n`;

function mainTable(): string {
  let t = header('metric', ['unit', ...contenders.map((c) => CONTENDERS[c]!)]).replace('|---:|', '|---|');
  for (const { wl, metric } of measured) {
    t += `| ${metric.label} ${metric.higher ? '↑' : '↓'} | ${metric.unit} | ${contenders.map((c) => cell(get(wl, metric.key, c), metric)).join(' | ')} |\n`;
  }
  return t;
}

function ratioTable(ref: string): string {
  const cols = contenders.filter((c) => c !== ref);
  let t = header('metric', cols.map((c) => CONTENDERS[c]!));
  for (const { wl, metric } of measured) {
    if (metric.ratio === false) continue;
    const base = get(wl, metric.key, ref);
    if (!base?.length || median(base) === 0) continue;
    const r = cols.map((c) => {
      const xs = get(wl, metric.key, c);
      return xs?.length ? `${(median(xs) / median(base)).toFixed(2)}` : '—';
    });
    t += `| ${metric.label} ${metric.higher ? '↑' : '↓'} | ${r.join(' | ')} |\n`;
  }
  return t;
}

function listing(file: string | undefined, empty: string): string {
  const items = rows(file);
  if (items.length === 0) return `${empty}\n`;
  return items.map(([rep, wl, ct, ...text]) => `- rep ${rep}, ${wl}, ${CONTENDERS[ct ?? ''] ?? ct}: ${text.join(' ').replace(/\|/g, '\\|')}`).join('\n') + '\n';
}

const quick = m('quick') === '1';
const md = `# Benchmarks: burrow against the usual ways to reach a server behind NAT

${quick ? '> **Quick smoke run** (`--quick`: one repetition, short runs, small counts): the numbers are only indicative.\n\n' : ''}Generated by \`bench/run.sh\` on ${m('date')}. Everything runs on one machine over loopback (127.0.0.1).

- command: \`${m('command')}\`
- machine: ${m('nproc')} CPUs (\`nproc\`), ${m('cpu')}, Linux ${m('kernel')}, open files limit ${m('nofile')}; load average ${m('loadavg')}
  (anything else running on the machine shows up as noise: compare the min–max spreads)
- versions: Node ${m('node')}, burrow ${m('burrow')}, ${m('openssh')}, ${m('haproxy')}, ${m('iperf3')}, ${m('wrk')}, ${m('redis')}, ${m('nginx')}
- ${m('reps')} repetition(s); within each, every workload runs every contender in turn (${contenders.join(', ')}), each with a fresh tunnel; run time ${Math.round(Number(m('wall_s')) / 60)} min

## Shape

Every contender has the same three hops: app → client-side forwarder → relay → server-side agent → real server.

| contender | client side | relay | server side | encryption |
|---|---|---|---|---|
| direct | — | — | — | none: the app talks to the real server |
| haproxy ×3 | haproxy (mode tcp) | haproxy | haproxy | none: the cost of forwarding alone |
| OpenSSH | \`ssh -N -L\` | local sshd (own config, key auth) | \`ssh -N -R\` | hop by hop: ssh ↔ sshd ↔ ssh (sshd sees plaintext) |
| burrow | \`burrow client connect\` | \`burrow relay\` | \`burrow skeleton\` | end to end: Noise NNpsk0 + AES-GCM between client and skeleton |

OpenSSH runs twice: with its default cipher (${m('ssh_default_cipher') || 'default'}) and with \`-c aes128-gcm@openssh.com\`.
Tunnel CPU and memory are summed over the tunnel's processes and their children (\`/proc/PID/stat\` utime+stime,
\`/proc/PID/smaps_rollup\`), not the app or the real server; "direct" has none.

Reading the OpenSSH numbers: small request/response exchanges through \`ssh -N\` tunnels often take ~40 ms
(p50 of the fresh-connection echo, p99 of wrk). That is consistent with Nagle's algorithm meeting delayed ACKs on
sshd's side: the \`ssh -N\` clients set \`TCP_NODELAY\`, but sshd sets it only when it starts a session, and
\`ssh -N\` starts none. Users of \`ssh -N -L/-R\` see the same, so it is measured as is.

Workloads: iperf3 upload for ${dur} s, 1 stream and \`-P 4\`; wrk (2 threads, 32 connections, ${dur} s, \`--latency\`) for a
1 KiB static file from nginx, with \`Connection: close\` (a new tunneled connection per request) and with keep-alive;
${m('connect_count')} sequential fresh connections each doing one 32-byte echo round trip (time from connect to the echo,
after a few unrecorded warm-up ones); \`redis-benchmark -t set,get -n ${m('redis_n')} -c 50\`; many concurrent idle connections
to an echo server, each proving itself with a 1-byte echo when opened and again after the memory was read.
${m('big_note') ? `\n**Note:** ${m('big_note')}\n` : ''}
## Results

Median over repetitions, (min–max) when they differ. ↑ higher is better, ↓ lower is better.

${mainTable()}
## Ratios to direct

Median of the contender ÷ median of direct (for ↓ metrics, above 1 is worse).

${ratioTable('direct')}
## Ratios to OpenSSH aes128-gcm

Median of the contender ÷ median of OpenSSH with aes128-gcm.

${ratioTable('ssh-gcm')}
## Failures

${listing(args.failures, 'None: every case ran and every connection worked.')}
## Warnings in the tunnels' logs

${listing(args.notes, 'None.')}
## Reproduce

\`\`\`sh
bash bench/run.sh            # 3 repetitions (--reps N), writes this file
bash bench/run.sh --quick    # 1 short repetition, a smoke test
\`\`\`

As root: it installs iperf3, wrk, haproxy, OpenSSH, redis and nginx from Debian if they are missing.
Raw results and every process's log stay in the \`/tmp/burrow-bench.*\` folder the run prints.
`;

if (args.out) writeFileSync(args.out, md);
process.stdout.write(md);
