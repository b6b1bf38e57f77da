/**
 * Opening a local connection's stream with patience: while the server (or the relay in front of it) is
 * away only for a moment, as when the relay restarts and the skeleton has not advertised again yet, the
 * connection waits and tries again instead of failing; once the outage is older than its patience
 * (ServerOutage), it is refused at once.
 */
import type { Socket } from 'node:net';
import { codeOf, retryOf } from '../../shared/errors.js';
import type { ServerOutage } from '../core/server-outage.js';

/** The pause between attempts of one waiting connection. */
export const OPEN_RETRY_MS = 500;

/** The server is not (yet) advertised or did not dial in, or the relay is not there: worth waiting for. */
function worthWaiting(err: unknown): boolean {
  const code = codeOf(err);
  return code === 'ERR_UNKNOWN_SERVER' || code === 'ERR_SERVER_UNREACHABLE' || retryOf(err) === 'soon';
}

export function openPatiently<T>(open: () => Promise<T>, local: Socket, outage: ServerOutage): Promise<T> {
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      open().then(resolve, (err: unknown) => {
        const now = Date.now();
        outage.attemptFailed(now);
        if (!worthWaiting(err) || local.destroyed || !outage.patient(now)) return reject(err);
        // The listening server keeps the process up; this timer need not.
        setTimeout(attempt, OPEN_RETRY_MS).unref();
      });
    };
    attempt();
  });
}
