/**
 * Tells early that HOST:PORT is not a burrow relay port, instead of waiting out the greeting timeout.
 * A relay speaks first, and its first frame's length prefix starts with a zero byte (a Hello is far
 * below 16 MiB). So a server that speaks first with anything else (SSH, SMTP) is told at once. A server
 * that waits for its client to speak (HTTP: the relay's own admin port) says nothing; for logins, which
 * are where a mistyped --relay shows, a port still silent after PROBE_AFTER_MS gets a probe: a second
 * connection that waits PROBE_SILENCE_MS for a greeting of its own and only then asks `HEAD /`. An HTTP
 * answer settles it. A Hello on the probe means a slow relay: the probe closes before sending anything
 * (the relay charges no penalty for that) and the first connection's greeting is awaited as before; only
 * a relay silent on both connections gets the HEAD, a garbage connection (a 2 s penalty, far below the
 * 15 s at which a source is refused). The probe never touches the connection being greeted.
 */
import { connect, type Socket } from 'node:net';
import { BurrowError } from '../errors.js';
import { formatHostPort } from './relay-address.js';

export const PROBE_AFTER_MS = 1500;
export const PROBE_SILENCE_MS = 500;
const PROBE_REQUEST = 'HEAD / HTTP/1.0\r\n\r\n';

/** Why `first` (the first bytes a port sent) is not a relay's greeting, or undefined if it may be one. */
export function notRelayReason(first: Buffer): string | undefined {
  if (first.length === 0 || first[0] === 0) return undefined;
  const text = first.subarray(0, 64).toString('latin1');
  if (text.startsWith('HTTP/')) return "it answers HTTP (the relay's admin port?)";
  return `it sent ${JSON.stringify(text.split(/\r?\n/)[0])}, not a burrow greeting`;
}

export interface NotARelayWatch {
  /** Rejects with ERR_NOT_A_RELAY when the port proves not to be a relay; never resolves. */
  refused: Promise<never>;
  stop(): void;
}

/**
 * Watches `socket`'s first bytes (call before anything else reads it) and, with `probe`, probes a port
 * that stays silent.
 */
export function watchNotARelay(socket: Socket, host: string, port: number, opts: { probe: boolean }): NotARelayWatch {
  let probe: Socket | undefined;
  let ask: NodeJS.Timeout | undefined;
  let fail: (reason: string) => void = () => undefined;
  const refused = new Promise<never>((_resolve, reject) => {
    fail = (reason) => reject(new BurrowError('ERR_NOT_A_RELAY', `${formatHostPort(host, port)}: ${reason}`));
  });
  refused.catch(() => undefined); // whoever races it sees the rejection; nobody else must
  const stop = (): void => {
    clearTimeout(timer);
    clearTimeout(ask);
    socket.off('data', onFirst);
    probe?.destroy();
    fail = () => undefined;
  };
  const settle = (reason: string | undefined): void => {
    const report = fail;
    stop();
    if (reason !== undefined) report(reason);
  };
  const onFirst = (chunk: Buffer): void => settle(notRelayReason(chunk));
  socket.once('data', onFirst);
  const startProbe = (): void => {
    probe = connect({ host, port });
    probe.on('error', () => undefined); // a probe that fails proves nothing; the greeting timeout still runs
    probe.once('connect', () => {
      ask = setTimeout(() => probe?.write(PROBE_REQUEST), PROBE_SILENCE_MS);
    });
    probe.once('data', (chunk: Buffer) => {
      clearTimeout(ask);
      const reason = notRelayReason(chunk);
      probe?.destroy();
      // A Hello on the probe: a slow relay, whose greeting on the first connection is still awaited.
      if (reason !== undefined) settle(reason);
    });
  };
  const timer = opts.probe ? setTimeout(startProbe, PROBE_AFTER_MS) : undefined;
  return { refused, stop };
}
