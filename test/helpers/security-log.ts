/**
 * An in-memory bunyan logger for the adversarial suite: keeps every record (at trace level by default)
 * and lets a test await the record that says something happened, instead of sleeping or polling.
 */
import bunyan from 'bunyan';
import type { Logger } from '../../shared/log.js';

export type LogRecord = Record<string, unknown> & { msg: string; level: number; name: string };

export class LogWatch {
  readonly records: LogRecord[] = [];
  readonly log: Logger;
  #waiters: { match: (r: LogRecord) => boolean; resolve: (r: LogRecord) => void }[] = [];

  constructor(name = 'burrow', level: bunyan.LogLevel = 'trace') {
    this.log = bunyan.createLogger({
      name,
      streams: [{ type: 'raw', level, stream: { write: (rec: unknown) => this.#add(rec as LogRecord) } as unknown as NodeJS.WritableStream }],
    });
  }

  /** Resolves with the first record (past or future) that matches. */
  waitFor(match: (r: LogRecord) => boolean): Promise<LogRecord> {
    const seen = this.records.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }

  /** Resolves once the relay has ended the session `sid` (its control connection closed). */
  sessionEnded(sid: string): Promise<LogRecord> {
    return this.waitFor((r) => r.msg === 'session ended' && r.session === sid);
  }

  count(msg: string): number {
    return this.records.filter((r) => r.msg === msg).length;
  }

  #add(rec: LogRecord): void {
    this.records.push(rec);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.match(rec)) return true;
      w.resolve(rec);
      return false;
    });
  }
}
