/**
 * A real redis-server on 127.0.0.1 for cluster tests. Redis has no port 0, and "bind port 0, close it,
 * reuse the number" races other tests for it: redis is started on a random high port instead, and on
 * another if that one is taken (it says so and exits). It is known ready by its log line and a PING,
 * never by sleeping. A missing redis-server fails the test with a clear message (npm test's pretest installs it).
 */
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { delimiter, join } from 'node:path';
import { randomPort } from './port-daemon.js';

export function findRedisServer(): string {
  const candidates = ['/usr/sbin/redis-server', '/usr/bin/redis-server', ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'redis-server'))];
  const found = candidates.find((path) => path && existsSync(path));
  if (!found) throw new Error('redis-server not found (looked in /usr/sbin, /usr/bin and PATH): install it with `apt-get install -y redis-server` (the pretest step of npm test does, as root)');
  return found;
}


const TRIES = 8;

function ping(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      if (data.toString().startsWith('+PONG')) resolve();
      else reject(new Error(`redis answered ${JSON.stringify(data.toString())}`));
    });
    socket.once('error', reject);
  });
}

class PortTaken extends Error {}

export class TestRedis {
  #proc: ChildProcess | undefined;

  private constructor(readonly binary: string, public port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(t: ExecutionContext): Promise<TestRedis> {
    const redis = new TestRedis(findRedisServer(), randomPort());
    t.teardown(() => redis.stop());
    for (let i = 1; ; i++) {
      try {
        await redis.restart();
        return redis;
      } catch (err) {
        if (i >= TRIES || !(err instanceof PortTaken)) throw err;
        redis.port = randomPort();
      }
    }
  }

  /** Starts the server (again, on the same port, empty) and resolves once it answers PING. */
  async restart(): Promise<void> {
    if (this.#proc) throw new Error('redis already running');
    const proc = spawn(this.binary, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#proc = proc;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          proc.stdout?.off('data', onData);
          resolve();
        }
      };
      proc.stdout?.on('data', onData);
      proc.once('exit', (code) => {
        this.#proc = undefined;
        reject(output.includes('Address already in use') ? new PortTaken() : new Error(`redis-server exited (${code}) before it was ready: ${output.slice(-500)}`));
      });
    });
    proc.stdout?.resume();
    proc.stderr?.resume();
    await ping(this.port);
  }

  /** Kills this server (its own PID only) and waits for it to exit. */
  async stop(): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await exited;
  }
}
