/**
 * `node dist/bench/cpu-account-report.js ROWS.tsv PERF(0|1)`: the Markdown table of bench/cpu-account.sh,
 * the median of every column per process over the repetitions (min-max beside the CPU figures), one
 * table per build compared. Columns: rep, role, user, system, reads/MiB, KiB/read, writes/MiB,
 * KiB/write, Gbit/s, build, then the perf shares (bench/perf-classify.awk).
 */
import { readFileSync } from 'node:fs';

const [file, perfFlag] = process.argv.slice(2);
if (!file) throw new Error('usage: cpu-account-report ROWS.tsv 0|1');
const perf = perfFlag === '1';
const allRows = readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split('\t'));
const roles = ['client', 'relay', 'skeleton'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}
function cell(xs: number[], digits: number, spread = false): string {
  const m = median(xs).toFixed(digits);
  if (!spread || xs.length < 2) return m;
  return `${m} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;
}

function table(rows: string[][]): void {
  const head = ['process', 'CPU-s/GiB', 'user', 'system', 'reads/MiB', 'KiB/read', 'writes/MiB', 'KiB/write'];
  const perfHead = ['crypto %', 'kernel copy %', 'kernel rest %', 'GC %', 'memcpy %', 'JS %', 'runtime %'];
  const all = perf ? [...head, ...perfHead] : head;
  console.log(`| ${all.join(' | ')} |`);
  console.log(`|${all.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
  const totals: number[][] = [];
  for (const role of roles) {
    const mine = rows.filter((r) => r[1] === role);
    const col = (i: number): number[] => mine.map((r) => Number(r[i]));
    const total = mine.map((r) => Number(r[2]) + Number(r[3]));
    totals.push(total);
    const cells = [role, cell(total, 2, true), cell(col(2), 2), cell(col(3), 2), cell(col(4), 1), cell(col(5), 1), cell(col(6), 1), cell(col(7), 1)];
    if (perf) for (let i = 10; i < 17; i++) cells.push(cell(col(i), 1));
    console.log(`| ${cells.join(' | ')} |`);
  }
  const sums = (totals[0] ?? []).map((_, i) => totals.reduce((n, t) => n + (t[i] ?? 0), 0));
  const rates = rows.filter((r) => r[1] === 'client').map((r) => Number(r[8]));
  console.log(`\ntunnel ${cell(sums, 2, true)} CPU-s/GiB; ${cell(rates, 2, true)} Gbit/s (${rows.length / 3} repetition(s))`);
}

for (const build of [...new Set(allRows.map((r) => r[9]))]) {
  console.log(`\n${build}:\n`);
  table(allRows.filter((r) => r[9] === build));
}
