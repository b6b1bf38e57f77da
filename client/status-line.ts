/** The live line `client connect` keeps on a terminal: open streams and bytes each way. */
import type { Forwarder } from './io/forwarder.js';

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

export function formatStatus(s: ReturnType<Forwarder['stats']>): string {
  return `streams ${s.active} open, ${s.total} total, ${s.failed} failed | up ${size(s.bytesUp)} down ${size(s.bytesDown)}`;
}

export function startStatusLine(forwarder: Forwarder, out: NodeJS.WriteStream = process.stderr): { stop(): void } {
  if (!out.isTTY) return { stop: () => undefined };
  const draw = (): void => {
    out.write(`\r\x1b[2K${formatStatus(forwarder.stats())}`);
  };
  const timer = setInterval(draw, 1000);
  draw();
  return {
    stop: () => {
      clearInterval(timer);
      out.write('\n');
    },
  };
}
