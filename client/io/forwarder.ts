/**
 * A local port forward: every connection accepted on HOST:PORT becomes one end-to-end stream to the
 * server. Failures close that one local connection and are logged with their code.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { codeOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { pipeBoth } from '../../shared/net/pipe-both.js';
import type { Redacted } from '../../shared/redacted.js';
import type { BurrowClient } from '../index.js';

export interface ForwarderStats {
  active: number;
  total: number;
  failed: number;
  bytesUp: number;
  bytesDown: number;
}

export interface Forwarder {
  address: AddressInfo;
  stats(): ForwarderStats;
  close(): Promise<void>;
}

export async function startForwarder(opts: {
  client: BurrowClient; serverId: string; secret: Redacted<Buffer>; host: string; port: number; log: Logger;
}): Promise<Forwarder> {
  const live = new Set<Socket>();
  const done = { total: 0, failed: 0, bytesUp: 0, bytesDown: 0 };
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (local) => {
    live.add(local);
    done.total++;
    local.setNoDelay(true);
    local.on('error', () => local.destroy());
    local.once('close', () => {
      live.delete(local);
      done.bytesUp += local.bytesRead;
      done.bytesDown += local.bytesWritten;
    });
    opts.client.open(opts.serverId, { secret: opts.secret, earlyData: true }).then(
      async (stream) => {
        const result = await pipeBoth(local, stream);
        // With early data a refusal (the target is down) arrives as the stream's first error.
        if (result.error && local.bytesWritten === 0) {
          done.failed++;
          opts.log.warn({ server: opts.serverId, code: result.error }, 'could not open stream');
        } else {
          opts.log.debug({ server: opts.serverId, ...result }, 'stream closed');
        }
      },
      (err: unknown) => {
        done.failed++;
        opts.log.warn({ server: opts.serverId, code: codeOf(err) }, 'could not open stream');
        local.destroy();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    address: server.address() as AddressInfo,
    stats: () => {
      let up = done.bytesUp;
      let down = done.bytesDown;
      for (const s of live) {
        up += s.bytesRead;
        down += s.bytesWritten;
      }
      return { active: live.size, total: done.total, failed: done.failed, bytesUp: up, bytesDown: down };
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of live) s.destroy();
      server.close(() => resolve());
    }),
  };
}
