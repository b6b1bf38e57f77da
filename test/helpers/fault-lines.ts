/**
 * Every output line of a child process, kept in order, with waits that only look at lines after a mark:
 * "the skeleton advertised again after the relay restarted" is a new line, not the one from its start.
 * bunyan JSON lines can be matched on their parsed fields.
 */
import type { ChildProcess } from 'node:child_process';

export type StreamName = 'stdout' | 'stderr';

/** A bunyan record (or `{ msg: line }` for a line that is not JSON). */
export interface LogRecord {
  msg?: string;
  level?: number;
  code?: string;
  [field: string]: unknown;
}

export type LineMatch = RegExp | ((record: LogRecord, line: string) => boolean);

interface Waiter {
  stream: StreamName;
  match: LineMatch;
  resolve: (line: string) => void;
  reject: (err: Error) => void;
}

export function parseRecord(line: string): LogRecord {
  if (!line.startsWith('{')) return { msg: line };
  try {
    return JSON.parse(line) as LogRecord;
  } catch {
    return { msg: line };
  }
}

function matches(match: LineMatch, line: string): boolean {
  return typeof match === 'function' ? match(parseRecord(line), line) : match.test(line);
}

/** A matcher for bunyan records: `msg` equals, and every field in `fields` equals. */
export function logMsg(msg: string, fields: Record<string, unknown> = {}): LineMatch {
  const match = (rec: LogRecord): boolean => rec.msg === msg && Object.entries(fields).every(([k, v]) => JSON.stringify(rec[k]) === JSON.stringify(v));
  return Object.assign(match, { toString: () => `log '${msg}' ${JSON.stringify(fields)}` });
}

export class LineLog {
  readonly lines: Record<StreamName, string[]> = { stdout: [], stderr: [] };
  readonly #waiters = new Set<Waiter>();
  #exited: string | undefined;

  constructor(child: ChildProcess, private readonly name: string) {
    for (const stream of ['stdout', 'stderr'] as const) {
      let partial = '';
      const readable = child[stream]!;
      readable.on('data', (chunk: Buffer | string) => {
        const parts = (partial + chunk.toString()).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) this.#add(stream, line.replace(/\r$/, ''));
      });
      readable.on('end', () => {
        if (partial !== '') this.#add(stream, partial);
        partial = '';
      });
    }
    child.once('close', (code, signal) => {
      this.#exited = `exited (code ${code}, signal ${signal})`;
      for (const w of this.#waiters) w.reject(this.#error(w, this.#exited));
      this.#waiters.clear();
    });
  }

  /** The number of lines seen so far on `stream`: waits `after` it ignore everything before. */
  mark(stream: StreamName = 'stderr'): number {
    return this.lines[stream].length;
  }

  /** Parsed records on `stream` from index `after` on. */
  records(stream: StreamName = 'stderr', after = 0): LogRecord[] {
    return this.lines[stream].slice(after).map(parseRecord);
  }

  /** Lines from `after` on that match. */
  matching(match: LineMatch, opts: { stream?: StreamName; after?: number } = {}): string[] {
    return this.lines[opts.stream ?? 'stderr'].slice(opts.after ?? 0).filter((l) => matches(match, l));
  }

  /** Resolves once `count` lines at index >= `after` match; rejects on timeout or exit. */
  async waitForCount(match: LineMatch, count: number, opts: { stream?: StreamName; after?: number; timeoutMs?: number } = {}): Promise<string[]> {
    const stream = opts.stream ?? 'stderr';
    const after = opts.after ?? this.lines[stream].length;
    let seen = this.matching(match, { stream, after }).length;
    const counting: LineMatch = (rec, line) => matches(match, line) && ++seen >= count;
    if (seen < count) await this.waitFor(Object.assign(counting, { toString: () => `${count} x ${String(match)}` }), { ...opts, stream, after: this.lines[stream].length });
    return this.matching(match, { stream, after });
  }

  /** The first line at index >= `after` (default: from now) that matches; rejects on timeout or exit. */
  waitFor(match: LineMatch, opts: { stream?: StreamName; after?: number; timeoutMs?: number } = {}): Promise<string> {
    const stream = opts.stream ?? 'stderr';
    const seen = this.lines[stream].slice(opts.after ?? this.lines[stream].length).find((l) => matches(match, l));
    if (seen !== undefined) return Promise.resolve(seen);
    const timeoutMs = opts.timeoutMs ?? 20_000;
    return new Promise<string>((resolve, reject) => {
      const waiter: Waiter = {
        stream,
        match,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(this.#error(waiter, `no matching ${stream} line within ${timeoutMs} ms`));
      }, timeoutMs);
      if (this.#exited) return waiter.reject(this.#error(waiter, this.#exited));
      this.#waiters.add(waiter);
    });
  }

  #add(stream: StreamName, line: string): void {
    this.lines[stream].push(line);
    for (const w of this.#waiters) {
      if (w.stream === stream && matches(w.match, line)) {
        this.#waiters.delete(w);
        w.resolve(line);
      }
    }
  }

  #error(w: Waiter, why: string): Error {
    const tail = (s: StreamName): string => this.lines[s].slice(-40).join('\n');
    return new Error(`${this.name}: ${why} (waiting for ${String(w.match)})\n--- stdout ---\n${tail('stdout')}\n--- stderr ---\n${tail('stderr')}`);
  }
}
