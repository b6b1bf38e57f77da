/**
 * `node dist/bench/proc-stats.js cpu|cpu-each|mem|tree PID...`: CPU seconds (summed, or one figure per
 * pid's tree, space-separated), "RSS_KiB PSS_KiB", or the pids of the process trees under the given pids.
 * Used by bench/run.sh around each workload.
 */
import { cpuSeconds, memory, parsePids, processTree } from './proc-tree.js';

const [what, ...rest] = process.argv.slice(2);
const roots = parsePids(rest);
if (what === 'cpu') {
  console.log(cpuSeconds(roots).toFixed(2));
} else if (what === 'cpu-each') {
  console.log(roots.map((pid) => cpuSeconds([pid]).toFixed(2)).join(' '));
} else if (what === 'mem') {
  const m = memory(roots);
  console.log(`${m.rssKiB} ${m.pssKiB}`);
} else if (what === 'tree') {
  console.log(processTree(roots).join(' '));
} else {
  console.error('usage: proc-stats cpu|cpu-each|mem|tree PID...');
  process.exit(2);
}
