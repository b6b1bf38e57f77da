/**
 * dnsmasq from Debian as the home DNS server of UDP tests: on 127.0.0.1 and a random high port (it has no
 * port 0; a port found taken is tried again elsewhere), with a config of the test's own on the command
 * line (no system config, no upstream, no hosts file), answering example.net with 192.0.2.7. Known ready
 * by its 'started' line; stopped at teardown.
 */
import type { ExecutionContext } from 'ava';
import { join } from 'node:path';
import { findProgram, randomPort, startDaemon } from './port-daemon.js';

export const DNS_NAME = 'example.net';
export const DNS_ANSWER = '192.0.2.7';

export async function startDnsmasq(t: ExecutionContext, dir: string): Promise<{ port: number }> {
  const program = findProgram('dnsmasq', 'dnsmasq');
  const daemon = await startDaemon(t, {
    name: 'dnsmasq',
    prepare: async () => {
      const port = randomPort();
      return {
        info: { port },
        argv: [
          program, '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--listen-address=127.0.0.1', '--bind-interfaces',
          `--port=${port}`, `--address=/${DNS_NAME}/${DNS_ANSWER}`, '--log-facility=-', `--pid-file=${join(dir, `dnsmasq-${port}.pid`)}`,
        ],
      };
    },
    ready: /started, version/,
    taken: /Address already in use/,
  });
  return daemon.info;
}
