/**
 * What bench/report.ts and bench/public-report.ts share: reading the raw TSV files a bench script
 * writes, medians with (min–max), and the list of failures or warnings.
 */
import { existsSync, readFileSync } from 'node:fs';

/** The rows of a TSV file (none if it is absent). */
export function rows(file: string | undefined): string[][] {
  if (!file || !existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => l.split('\t'));
}

export interface Metric {
  key: string;
  label: string;
  unit: string;
  higher: boolean;
  digits: number;
  scale?: number;
  ratio?: boolean;
}

/** values[workload][metric][contender] = number[] (one per repetition), and the workloads in run order. */
export type Values = Map<string, Map<string, Map<string, number[]>>>;

/** results: rep, workload, contender, metric, value. */
export function readValues(file: string | undefined): { values: Values; workloads: string[] } {
  const values: Values = new Map();
  const workloads: string[] = [];
  for (const [, wl = '', ct = '', key = '', v = ''] of rows(file)) {
    if (!values.has(wl)) {
      values.set(wl, new Map());
      workloads.push(wl);
    }
    const byMetric = values.get(wl)!;
    if (!byMetric.has(key)) byMetric.set(key, new Map());
    const byCt = byMetric.get(key)!;
    byCt.set(ct, [...(byCt.get(ct) ?? []), Number(v)]);
  }
  return { values, workloads };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function fmt(x: number, metric: Metric): string {
  return (x * (metric.scale ?? 1)).toLocaleString('en-US', { minimumFractionDigits: metric.digits, maximumFractionDigits: metric.digits });
}

/** The median, then (min–max) when the repetitions differ. */
export function cell(xs: number[] | undefined, metric: Metric): string {
  if (!xs || xs.length === 0) return '—';
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const spread = xs.length > 1 && fmt(lo, metric) !== fmt(hi, metric) ? ` (${fmt(lo, metric)}–${fmt(hi, metric)})` : '';
  return fmt(median(xs), metric) + spread;
}

/** failures/notes (rep, workload, contender, text) as a Markdown list. */
export function listing(file: string | undefined, empty: string, labels: Record<string, string>): string {
  const items = rows(file);
  if (items.length === 0) return `${empty}\n`;
  return items.map(([rep, wl, ct, ...text]) => `- rep ${rep}, ${wl}, ${labels[ct ?? ''] ?? ct}: ${text.join(' ').replace(/\|/g, '\\|')}`).join('\n') + '\n';
}
