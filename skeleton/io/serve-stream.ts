/**
 * One joined stream at the skeleton: the relay said which server (Bind); the client must prove that
 * server's secret in the Noise handshake before we open the local target; then bytes flow both ways.
 */
import type { Socket } from 'node:net';
import { secureResponder } from '../../shared/crypto/secure-stream.js';
import { codeOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { connectTarget } from '../../shared/net/connect-target.js';
import { pipeBoth } from '../../shared/net/pipe-both.js';
import type { SkeletonServer } from './skeleton-server.js';

export async function serveStream(socket: Socket, leftover: Buffer, server: SkeletonServer, log: Logger, targetTimeoutMs: number): Promise<void> {
  let target: Socket | undefined;
  const started = Date.now();
  try {
    const secure = await secureResponder(socket, {
      psk: server.secret.reveal(),
      serverId: server.id,
      leftover,
      accept: async () => {
        target = await connectTarget(server.host, server.port, targetTimeoutMs);
      },
    });
    if (!secure) {
      log.debug({ server: server.id }, 'secret probe answered');
      return;
    }
    if (!target) throw new Error('target missing after accept');
    const result = await pipeBoth(secure, target);
    log.debug({ server: server.id, durationMs: Date.now() - started, ...(result.error ? { code: result.error } : {}) }, 'stream closed');
  } catch (err) {
    target?.destroy();
    socket.destroy();
    log.info({ server: server.id, code: codeOf(err) }, 'stream refused');
  }
}
