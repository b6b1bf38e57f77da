/**
 * The live line `client connect` keeps on a terminal: open streams and bytes each way (client→server,
 * server→client, as the relay's logs, audit file, API and metrics say), redrawn every
 * second in place. Off when the output is not a terminal (a pipe, a log file, systemd) or with --quiet.
 */
import type { ForwarderStats } from './io/forwarder.js';

function size(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function formatStatus(s: ForwarderStats): string {
  if (s.dropped !== undefined) {
    return `udp flows ${s.active} open, ${s.total} total, ${s.failed} failed, ${s.refused ?? 0} refused | client→server ${size(s.bytesClientToServer)} server→client ${size(s.bytesServerToClient)} | ${s.dropped} datagrams dropped`;
  }
  return `streams ${s.active} open, ${s.total} total, ${s.failed} failed | client→server ${size(s.bytesClientToServer)} server→client ${size(s.bytesServerToClient)}`;
}

export interface StatusLineOptions {
  out: Pick<NodeJS.WritableStream, 'write'> & { isTTY?: boolean };
  quiet?: boolean;
  intervalMs?: number;
}

export interface StatusLine {
  /** Whether the line is shown at all. */
  readonly active: boolean;
  /** Redraws now (the timer calls it every intervalMs). */
  draw(): void;
  stop(): void;
}

export function startStatusLine(forwarder: { stats(): ForwarderStats }, opts: StatusLineOptions): StatusLine {
  const { out } = opts;
  if (out.isTTY !== true || opts.quiet === true) return { active: false, draw: () => undefined, stop: () => undefined };
  let stopped = false;
  const draw = (): void => {
    if (!stopped) out.write(`\r\x1b[2K${formatStatus(forwarder.stats())}`);
  };
  const timer = setInterval(draw, opts.intervalMs ?? 1000);
  timer.unref();
  draw();
  return {
    active: true,
    draw,
    stop: () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      out.write('\n');
    },
  };
}
