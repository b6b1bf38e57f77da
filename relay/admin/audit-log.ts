/**
 * The audit log: one JSON line per finished stream (client account, server id, start, end, bytes each
 * way, close reason). Never payload, never an address. reopen() (on SIGHUP) starts a fresh file after
 * logrotate has moved the old one away.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { BurrowError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { StreamAudit } from '../io/relay-runtime.js';

export interface AuditLine {
  type: 'stream';
  account: string;
  server: string;
  stream: number;
  start: string;
  end: string;
  durationMs: number;
  bytesClientToServer: number;
  bytesServerToClient: number;
  reason: string;
}

export function auditLine(audit: StreamAudit): AuditLine {
  return {
    type: 'stream', account: audit.user, server: audit.server, stream: audit.stream, start: audit.start, end: audit.end,
    durationMs: audit.durationMs, bytesClientToServer: audit.bytesClientToServer, bytesServerToClient: audit.bytesServerToClient, reason: audit.reason,
  };
}

export class AuditLog {
  #out: WriteStream;

  private constructor(readonly path: string, private readonly log: Logger, out: WriteStream) {
    this.#out = out;
  }

  /** Opens (appends to, or creates with mode 0600) the file; resolves once it is open. */
  static async open(path: string, log: Logger): Promise<AuditLog> {
    try {
      return new AuditLog(path, log, await AuditLog.#openStream(path, log));
    } catch (err) {
      throw new BurrowError('ERR_CONFIG', `--audit-log ${path}: cannot open (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }

  static async #openStream(path: string, log: Logger): Promise<WriteStream> {
    const out = createWriteStream(path, { flags: 'a', mode: 0o600 });
    await once(out, 'open');
    out.on('error', (err: NodeJS.ErrnoException) => log.error({ code: err.code, path }, 'audit log write failed'));
    return out;
  }

  write(audit: StreamAudit): void {
    this.#out.write(JSON.stringify(auditLine(audit)) + '\n');
  }

  /** Closes the current file and opens the path again (logrotate's create or copytruncate both work). */
  async reopen(): Promise<void> {
    let next: WriteStream;
    try {
      next = await AuditLog.#openStream(this.path, this.log);
    } catch (err) {
      this.log.error({ code: (err as NodeJS.ErrnoException).code, path: this.path }, 'audit log cannot be reopened; writing to the old file');
      return;
    }
    const old = this.#out;
    this.#out = next;
    await new Promise<void>((resolve) => old.end(resolve));
    this.log.info({ path: this.path }, 'audit log reopened');
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => this.#out.end(resolve));
  }
}
