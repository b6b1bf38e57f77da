/**
 * Summarises what the tunnel processes logged during one case: bunyan JSON lines (burrow) grouped by
 * logger, level, message and error code; other lines (sshd, haproxy) grouped with pids and numbers
 * blanked. Prints `COUNT× text` per group, most frequent first.
 *   node dist/bench/log-summary.js FILE...
 */
import { readFileSync } from 'node:fs';

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const counts = new Map<string, number>();

for (const file of process.argv.slice(2)) {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    continue;
  }
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    let key: string;
    try {
      const j = JSON.parse(line) as { name?: string; level?: number; msg?: string; code?: string; err?: { message?: string } };
      key = `${j.name ?? '?'} ${LEVELS[j.level ?? 0] ?? j.level}: ${j.msg ?? ''}${j.code ? ` (${j.code})` : ''}${j.err?.message ? ` [${j.err.message}]` : ''}`;
    } catch {
      key = line.replace(/\d+/g, 'N').slice(0, 200);
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
}
for (const [key, n] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`${n}× ${key}`);
