/**
 * Reads /proc for the benchmark: the live process tree under some root pids, their CPU time
 * (utime + stime, every thread) and their memory (RSS and PSS from smaps_rollup).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/PID/stat; the script passes `getconf CLK_TCK`. */
const CLK_TCK = Number(process.env.BENCH_CLK_TCK ?? 100);

interface Stat {
  ppid: number;
  ticks: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": 3 state, 4 ppid, ... 14 utime, 15 stime. comm may hold spaces.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z') return undefined;
    return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return undefined;
  }
}

/** The roots that are alive, and every live descendant of them (sshd's per-connection processes). */
export function processTree(roots: number[]): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat) parentOf.set(Number(name), stat.ppid);
  }
  const tree = new Set(roots.filter((pid) => parentOf.has(pid)));
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, ppid] of parentOf) {
      if (!tree.has(pid) && tree.has(ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return [...tree].sort((a, b) => a - b);
}

/** CPU seconds (user + system) used so far by the trees under roots. */
export function cpuSeconds(roots: number[]): number {
  let ticks = 0;
  for (const pid of processTree(roots)) ticks += readStat(pid)?.ticks ?? 0;
  return ticks / CLK_TCK;
}

export interface Memory {
  rssKiB: number;
  pssKiB: number;
  processes: number;
}

/** Summed RSS and PSS of the trees under roots. */
export function memory(roots: number[]): Memory {
  const sum: Memory = { rssKiB: 0, pssKiB: 0, processes: 0 };
  for (const pid of processTree(roots)) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    } catch {
      continue;
    }
    sum.rssKiB += Number(/^Rss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
    sum.pssKiB += Number(/^Pss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
    sum.processes++;
  }
  return sum;
}

/** "12 34,56" -> [12, 34, 56] */
export function parsePids(args: string[]): number[] {
  return args.flatMap((a) => a.split(/[\s,]+/)).filter((s) => /^\d+$/.test(s)).map(Number);
}
