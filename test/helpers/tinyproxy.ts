/**
 * A real forward proxy (Debian's tinyproxy) as an office firewall has it: CONNECT only to the ports
 * allowed (as a firewall allows only 443), Basic credentials required, everything else refused.
 */
import type { ExecutionContext } from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findProgram, randomPort, startDaemon, type Daemon } from './port-daemon.js';

export const PROXY_USER = 'officeuser';
export const PROXY_PASS = 'proxy-pass-Zq81';

export interface TestProxy {
  port: number;
  /** http://USER:PASS@127.0.0.1:PORT */
  url: string;
  /** http://127.0.0.1:PORT, no credentials */
  bareUrl: string;
  daemon: Daemon<{ port: number }>;
}

export async function startTinyproxy(t: ExecutionContext, dir: string, connectPorts: number[]): Promise<TestProxy> {
  const binary = findProgram('tinyproxy', 'tinyproxy');
  const daemon = await startDaemon(t, {
    name: 'tinyproxy',
    prepare: async () => {
      const port = randomPort();
      const conf = join(dir, `tinyproxy-${port}.conf`);
      await writeFile(conf, [
        `Port ${port}`, 'Listen 127.0.0.1', 'Timeout 30', 'MaxClients 50', 'Allow 127.0.0.1',
        `BasicAuth ${PROXY_USER} ${PROXY_PASS}`, ...connectPorts.map((p) => `ConnectPort ${p}`), 'DisableViaHeader Yes', 'LogLevel Info', '',
      ].join('\n'));
      // Its log goes to stdout, which C buffers in full on a pipe: line-buffered, the ready line arrives.
      return { argv: [findProgram('stdbuf', 'coreutils'), '-oL', '-eL', binary, '-d', '-c', conf], info: { port } };
    },
    ready: /Accepting connections/,
    taken: /Address already in use|Unable to listen|Could not create listening/i,
  });
  const port = daemon.info.port;
  return { port, url: `http://${PROXY_USER}:${PROXY_PASS}@127.0.0.1:${port}`, bareUrl: `http://127.0.0.1:${port}`, daemon };
}
