/**
 * What the public HTTP front costs: wrk against a small node:http backend directly and through the
 * front (in this process; the backend in a child process), keep-alive and `Connection: close`.
 * Loopback only. `node dist/bench/http-front-overhead.js [seconds]`; needs Debian's wrk.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { silentLogger } from '../shared/log.js';
import { createHttpFront } from '../relay/public/http-front.js';

const seconds = Number(process.argv[2] ?? 5);
const BACKEND = `const http = require('node:http');
const s = http.createServer({ keepAliveTimeout: 60000 }, (req, res) => res.end('hello from the home server\\n'));
s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;

async function main(): Promise<void> {
  const child = spawn(process.execPath, ['-e', BACKEND], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const backendPort = Number(line.toString().trim());
  const front = createHttpFront({
    log: silentLogger(),
    resolve: (host) => (host === 'bench.test' ? { key: 'http://bench.test', forwarded: true } : undefined),
    open: async () => {
      const socket = net.connect({ port: backendPort, host: '127.0.0.1', noDelay: true });
      socket.on('error', () => undefined);
      await once(socket, 'connect');
      return socket;
    },
  });
  const listener = net.createServer((socket) => front.handle(socket));
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const frontPort = (listener.address() as AddressInfo).port;
  const run = (port: number, close: boolean): Promise<string> =>
    new Promise((resolve) => {
      const args = ['-t1', '-c16', `-d${seconds}s`, '-H', 'Host: bench.test', ...(close ? ['-H', 'Connection: close'] : []), `http://127.0.0.1:${port}/`];
      const wrk = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      wrk.stdout.on('data', (c: Buffer) => (out += c.toString()));
      wrk.once('close', () => resolve(out));
    });
  const summary = (out: string) => `${/Requests\/sec:\s+(\S+)/.exec(out)?.[1]} req/s, latency avg ${/Latency\s+(\S+)/.exec(out)?.[1]}`;
  for (const close of [false, true]) {
    const direct = await run(backendPort, close);
    const through = await run(frontPort, close);
    console.log(`${close ? 'close     ' : 'keep-alive'}  direct: ${summary(direct)}  front: ${summary(through)}`);
  }
  listener.close();
  await front.close();
  child.kill();
}

void main();
