/**
 * Turns bench/run.sh's raw results into docs/BENCHMARKS.md (and prints it): medians with min-max per
 * metric and contender, ratios to "direct" and to "OpenSSH aes128-gcm", the machine, the versions, the
 * exact command, and every failure or warning the run saw.
 *   node dist/bench/report.js --results R.tsv --failures F.tsv --meta M.tsv [--notes N.tsv] --out FILE
 * results: rep, workload, contender, metric, value; failures/notes: rep, workload, contender, text.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { cell, listing as listOf, median, readValues, rows, type Metric } from './report-lib.js';

const { values: args } = parseArgs({
  options: { results: { type: 'string' }, failures: { type: 'string' }, notes: { type: 'string' }, meta: { type: 'string' }, out: { type: 'string' } },
});

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

const dur = m('duration_s');
/** The tunnel's CPU per process: client-side forwarder, relay, server-side agent (C_PIDS order). */
function perProcess(key: string, what: string, unit: string, digits: number): Metric[] {
  return (['client', 'relay', 'server'] as const).map((role) => ({
    key: `${key}_${role}`, label: `${what}: CPU of the ${role === 'server' ? 'server-side agent' : role === 'client' ? 'client-side forwarder' : 'relay'}`, unit, higher: false, digits,
  }));
}
function metricsOf(workload: string): Metric[] {
  const throughput = (what: string): Metric[] => [
    { key: 'gbps', label: `${what}: throughput`, unit: 'Gbit/s', higher: true, digits: 2 },
    { key: 'cpu_s_per_gib', label: `${what}: tunnel CPU`, unit: 'CPU-s/GiB', higher: false, digits: 2 },
    ...perProcess('cpu_s_per_gib', what, 'CPU-s/GiB', 2),
  ];
  const http = (what: string): Metric[] => [
    { key: 'rps', label: `${what}: requests/s`, unit: 'req/s', higher: true, digits: 0 },
    { key: 'p50_ms', label: `${what}: p50`, unit: 'ms', higher: false, digits: 2 },
    { key: 'p99_ms', label: `${what}: p99`, unit: 'ms', higher: false, digits: 2 },
    { key: 'cpu_ms_per_kreq', label: `${what}: tunnel CPU`, unit: 'CPU-ms/1k req', higher: false, digits: 0 },
    ...perProcess('cpu_ms_per_kreq', what, 'CPU-ms/1k req', 0),
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

const { values, workloads } = readValues(args.results);
// The same values keyed by repetition, for the spread of each ratio within one repetition.
const byRep = new Map<string, number>();
for (const [rep = '', wl = '', ct = '', key = '', v = ''] of rows(args.results)) byRep.set(`${rep}\t${wl}\t${key}\t${ct}`, Number(v));
const reps = [...new Set(rows(args.results).map(([rep = '']) => rep))];

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
      if (!xs?.length) return '—';
      // The spread: the same ratio within each repetition (contenders interleaved, so they shared its load).
      const perRep = reps.flatMap((rep) => {
        const a = byRep.get(`${rep}\t${wl}\t${metric.key}\t${c}`);
        const b = byRep.get(`${rep}\t${wl}\t${metric.key}\t${ref}`);
        return a === undefined || b === undefined || b === 0 ? [] : [a / b];
      });
      const spread = perRep.length > 1 ? ` (${Math.min(...perRep).toFixed(2)}–${Math.max(...perRep).toFixed(2)})` : '';
      return `${(median(xs) / median(base)).toFixed(2)}${spread}`;
    });
    t += `| ${metric.label} ${metric.higher ? '↑' : '↓'} | ${r.join(' | ')} |\n`;
  }
  return t;
}

const listing = (file: string | undefined, empty: string): string => listOf(file, empty, CONTENDERS);

const quick = m('quick') === '1';
const md = `# Benchmarks: burrow against the usual ways to reach a server behind NAT

${quick ? '> **Quick smoke run** (`--quick`: one repetition, short runs, small counts): the numbers are only indicative.\n\n' : ''}Generated by \`bench/run.sh\` on ${m('date')}. Everything runs on one machine over loopback (127.0.0.1).

- command: \`${m('command')}\`
- machine: ${m('nproc')} CPUs (\`nproc\`), ${m('cpu')}, Linux ${m('kernel')}, open files limit ${m('nofile')}; load average ${m('loadavg')}
  (anything else running on the machine shows up as noise: compare the min–max spreads)
- CPU flags (crypto and SIMD): ${m('cpu_flags') || 'none of aes, avx, vaes'}; mitigations: ${m('mitigations') || 'none'}
- versions: Node ${m('node')} (OpenSSL ${m('openssl')}), burrow ${m('burrow')}, ${m('openssh')}, ${m('haproxy')}, ${m('iperf3')}, ${m('wrk')}, ${m('redis')}, ${m('nginx')}
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
In the ratio tables below, the brackets hold the lowest and highest of the same ratio taken within one
repetition (the contenders of a repetition ran interleaved, under the same load).

${mainTable()}
${contenders.includes('direct') ? `## Ratios to direct

Median of the contender ÷ median of direct (for ↓ metrics, above 1 is worse).

${ratioTable('direct')}
` : ''}${contenders.includes('haproxy') ? `## Ratios to the haproxy chain

Median of the contender ÷ median of the three haproxy hops (forwarding alone, no encryption).

${ratioTable('haproxy')}
` : ''}${contenders.includes('ssh-gcm') ? `## Ratios to OpenSSH aes128-gcm

Median of the contender ÷ median of OpenSSH with aes128-gcm.

${ratioTable('ssh-gcm')}
` : ''}## Failures

${listing(args.failures, 'None: every case ran and every connection worked.')}
## Warnings in the tunnels' logs

${listing(args.notes, 'None.')}
## Reproduce

\`\`\`sh
bash bench/run.sh            # 3 repetitions (--reps N), writes this file
bash bench/run.sh --quick    # 1 short repetition, a smoke test
bash bench/cpu-account.sh --perf      # one bulk stream's CPU per GiB, per process, and where it goes
bash bench/startup.sh                 # burrow --help and one client stdio request against bare node
\`\`\`

As root: it installs iperf3, wrk, haproxy, OpenSSH, redis and nginx from Debian if they are missing.
Raw results and every process's log stay in the \`/tmp/burrow-bench.*\` folder the run prints.
`;

if (args.out) writeFileSync(args.out, md);
process.stdout.write(md);
