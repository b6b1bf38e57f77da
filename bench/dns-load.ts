/**
 * A small, bounded DNS query load for bench/udp.sh: `flows` UDP sockets (each one flow through the
 * forwarder under test), each a closed loop of one A query for NAME at a time (the next goes out when the
 * answer came, or after `timeoutMs` as a loss), for `seconds` seconds and at most `max` queries in all.
 * Prints one JSON line: queries sent, answered, lost, queries per second answered, median and p99
 * round-trip time in ms.
 *
 *   node dist/bench/dns-load.js HOST PORT NAME [--flows 8] [--seconds 5] [--max 200000] [--timeout-ms 1000]
 */
import { createSocket, type Socket } from 'node:dgram';

function query(id: number, name: string): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.of(l.length), Buffer.from(l, 'ascii')]));
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // recursion desired
  header.writeUInt16BE(1, 4); // one question
  return Buffer.concat([header, ...labels, Buffer.of(0), Buffer.from([0, 1, 0, 1])]); // A, IN
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const [host = '127.0.0.1', portText = '53', name = 'example.net'] = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
  const port = Number(portText);
  const flows = arg('--flows', 8);
  const seconds = arg('--seconds', 5);
  const max = arg('--max', 200_000);
  const timeoutMs = arg('--timeout-ms', 1000);
  const deadline = Date.now() + seconds * 1000;
  let sent = 0;
  let answered = 0;
  let lost = 0;
  const rtts: number[] = [];
  const started = Date.now();
  await Promise.all(Array.from({ length: flows }, (_, f) => new Promise<void>((resolve) => {
    const socket: Socket = createSocket('udp4');
    let id = f * 4096;
    let sentAt = 0;
    let timer: NodeJS.Timeout | undefined;
    const next = (): void => {
      clearTimeout(timer);
      if (Date.now() >= deadline || sent >= max) {
        socket.close();
        resolve();
        return;
      }
      id = (id + 1) & 0xffff;
      sent++;
      sentAt = performance.now();
      socket.send(query(id, name), port, host);
      timer = setTimeout(() => {
        lost++;
        next();
      }, timeoutMs);
    };
    socket.on('message', (msg) => {
      if (msg.length < 2 || msg.readUInt16BE(0) !== id) return; // a late answer to a query counted lost
      answered++;
      rtts.push(performance.now() - sentAt);
      next();
    });
    socket.bind(0, '127.0.0.1', next);
  })));
  const elapsed = (Date.now() - started) / 1000;
  rtts.sort((a, b) => a - b);
  const pct = (p: number): number => Number((rtts[Math.min(rtts.length - 1, Math.floor(p * rtts.length))] ?? NaN).toFixed(3));
  console.log(JSON.stringify({ flows, seconds: Number(elapsed.toFixed(2)), sent, answered, lost, qps: Math.round(answered / elapsed), rttMedianMs: pct(0.5), rttP99Ms: pct(0.99) }));
}

await main();
