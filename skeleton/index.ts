/**
 * startSkeleton(options): the skeleton as a library. Resolves once it is logged in and the relay has
 * answered its first Advertise; rejects at once on errors that retrying cannot fix (wrong password,
 * wrong relay key, protocol version: their retry policy is `stop`), and otherwise keeps trying with
 * backoff. close() cancels the wait between attempts, and the wait keeps no process alive.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { BurrowError } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/log.js';
import type { RelayTarget } from '../shared/peer/relay-address.js';
import type { Redacted } from '../shared/redacted.js';
import { SkeletonRuntime, type AdvertiseResult } from './io/skeleton-runtime.js';
import { checkServers, type SkeletonServer } from './io/skeleton-server.js';
import { UdpFlows } from './io/udp-flows.js';
import type { RekeyOptions } from '../shared/tunnel/tunnel-frame-writer.js';
import { DRAIN_IDLE_MS, SkeletonDrain } from './io/skeleton-drain.js';

export type { SkeletonServer } from './io/skeleton-server.js';
export type { AdvertiseResult } from './io/skeleton-runtime.js';

export interface SkeletonOptions {
  /** The relay, or several relays of one cluster: a control channel to each, advertising to each. */
  relay: RelayTarget | RelayTarget[];
  user: string;
  password: Redacted<string>;
  servers: SkeletonServer[];
  /** Idle data connections kept at each relay (default 2); grows with demand up to poolMax (default 16). */
  pool?: number;
  poolMax?: number;
  /** How long to wait for a local target to accept (default 5 s). */
  targetTimeoutMs?: number;
  /**
   * This skeleton's token in its Advertise (default: derived from the host name). Skeletons of one
   * account with different tokens serve an id together; one with the same token takes it over.
   */
  instance?: string;
  /** How long a UDP flow lives without a datagram either way (default 120 s). */
  udpIdleMs?: number;
  /** UDP flows this skeleton serves at once, over all its udp servers (default 4096); more are refused with ERR_LIMIT. */
  maxUdpFlows?: number;
  /** The clock UDP idle times are measured with (tests advance one by hand and call `udp.sweep()`). */
  now?: () => number;
  /** When end-to-end streams replace their sending key (default every 10 minutes and every GiB); tests make it often. */
  rekey?: RekeyOptions;
  /**
   * close() is graceful for this long by default (the CLI's --drain): the relays are told the skeleton
   * is leaving, and running streams may finish (idle ones are cut after a second). 0 (the default for
   * the library): close() cuts everything at once.
   */
  drainMs?: number;
  /** Gives up the start (the waits between login attempts too): startSkeleton rejects with ERR_CONNECTION_CLOSED. */
  signal?: AbortSignal;
  log?: Logger;
  /** Told of each failed attempt to reach a relay that will be retried (the CLI says it to the user). */
  onRetry?: (relay: RelayTarget, err: BurrowError) => void;
}

export interface SkeletonHandle {
  /** What the (first answering) relay accepted and refused at the first advertise. */
  advertised: AdvertiseResult;
  /** The runtime of the relay that answered first. */
  runtime: SkeletonRuntime;
  /** One runtime per relay address, in the order given. */
  runtimes: SkeletonRuntime[];
  /** The UDP flows of all its udp servers. */
  udp: UdpFlows;
  /** What it serves, as a graceful stop sees it (its 'swept' event tells each idle sweep). */
  drain: SkeletonDrain;
  /**
   * Stops the skeleton. With a drain (`drainMs`, else the option's): tells every relay it is leaving,
   * lets running streams finish within it (cutting those idle for a second, and what is left at the
   * end), then closes. Resolves with whether everything finished in time and how much was cut.
   */
  close(opts?: { drainMs?: number }): Promise<{ drained: boolean; cut: number }>;
}

/**
 * A skeleton's instance token unless given: a digest of the host's name (the relay never sees the
 * name). A skeleton started again on the same host, while the relay still holds the old one's session
 * (frozen, or its network gone silently), takes its ids over at once; skeletons on two hosts serve them
 * together. Two on one host: the later takes over, and the earlier serves again once it has left.
 */
function defaultInstance(): string {
  return createHash('sha256').update(`burrow skeleton instance\0${hostname()}`).digest('base64url').slice(0, 22);
}

/**
 * Resolves once one relay has answered the first Advertise (the others keep trying in the background);
 * rejects if any relay refuses the account or its key, or, with a single relay, if it is lost first.
 */
export async function startSkeleton(options: SkeletonOptions): Promise<SkeletonHandle> {
  const log = options.log ?? silentLogger();
  const targets = Array.isArray(options.relay) ? options.relay : [options.relay];
  if (targets.length === 0) throw new BurrowError('ERR_USAGE', 'no relay address');
  checkServers(options.servers);
  const instance = options.instance ?? defaultInstance();
  const udp = new UdpFlows(log, {
    ...(options.udpIdleMs !== undefined ? { idleMs: options.udpIdleMs } : {}), ...(options.maxUdpFlows !== undefined ? { maxFlows: options.maxUdpFlows } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const drain = new SkeletonDrain();
  const runtimes = targets.map((target) => new SkeletonRuntime(target, { user: options.user, password: options.password }, options.servers,
    targets.length > 1 ? log.child({ relay: `${target.host}:${target.port}` }) : log, {
      pool: options.pool ?? 2, poolMax: Math.max(options.pool ?? 2, options.poolMax ?? 16), targetTimeoutMs: options.targetTimeoutMs ?? 5000, instance, udp,
      ...(options.rekey ? { rekey: options.rekey } : {}), onRetry: (err) => options.onRetry?.(target, err), drain,
    }));
  const stopAll = (): void => {
    for (const r of runtimes) r.stop();
    udp.close();
  };
  try {
    // Every login, the first too, goes through the skeleton core: its backoff, and its word on what
    // retrying cannot fix (the code's retry policy in shared/errors.ts).
    const first = await new Promise<{ runtime: SkeletonRuntime; advertised: AdvertiseResult }>((resolve, reject) => {
      for (const runtime of runtimes) {
        runtime.once('advertised', (advertised) => resolve({ runtime, advertised }));
        runtime.once('fatal', reject);
        if (targets.length === 1) runtime.once('disconnected', (code) => reject(new BurrowError(code, 'lost the relay before advertising')));
        runtime.start();
      }
      const abort = (): void => reject(new BurrowError('ERR_CONNECTION_CLOSED', 'start cancelled'));
      if (options.signal?.aborted) abort();
      options.signal?.addEventListener('abort', abort, { once: true });
    });
    let closing: Promise<{ drained: boolean; cut: number }> | undefined;
    const close = (opts: { drainMs?: number } = {}): Promise<{ drained: boolean; cut: number }> => {
      closing ??= (async () => {
        const drainMs = opts.drainMs ?? options.drainMs ?? 0;
        const result = drainMs > 0 ? await drainFor(drain, runtimes, drainMs, log) : { drained: drain.connections === 0, cut: drain.cutAll() };
        stopAll();
        return result;
      })();
      return closing;
    };
    return { advertised: first.advertised, runtime: first.runtime, runtimes, udp, drain, close };
  } catch (err) {
    stopAll();
    throw err;
  }
}

/**
 * A graceful stop (skeleton-drain.ts): every relay hears that this skeleton is leaving, tunnels end once
 * their channels have, what is silent for a second (and awaits no answer) is cut, and at `drainMs`
 * whatever still runs is cut. Resolves once nothing is served any more.
 */
async function drainFor(drain: SkeletonDrain, runtimes: SkeletonRuntime[], drainMs: number, log: Logger): Promise<{ drained: boolean; cut: number }> {
  const deadline = Date.now() + drainMs;
  await Promise.all(runtimes.map((r) => r.leave(Math.min(2000, drainMs))));
  drain.start();
  log.info({ connections: drain.connections, drainMs }, 'skeleton stopping: running streams may finish');
  let cutIdle = drain.sweep(Date.now());
  const sweep = setInterval(() => {
    cutIdle += drain.sweep(Date.now());
  }, DRAIN_IDLE_MS / 4);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), drain.hurried ? 0 : Math.max(0, deadline - Date.now()));
    drain.once('hurry', () => resolve(false));
  });
  const drained = await Promise.race([drain.done().then(() => true), late]);
  clearInterval(sweep);
  clearTimeout(timer);
  let cutAtDeadline = 0;
  if (!drained) {
    cutAtDeadline = drain.cutAll();
    // The tunnels' ends and the resets go out before the sockets close (a second at most).
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([drain.done(), new Promise<void>((resolve) => { grace = setTimeout(resolve, 1000); })]);
    clearTimeout(grace);
  }
  // Idle ones carried nothing; what was cut at the deadline (or on a second signal) was work an app saw fail.
  if (cutAtDeadline > 0) log.warn({ cutIdle, cutAtDeadline, drainMs }, 'skeleton stopped; streams still running at the deadline (or at a second signal) were cut');
  else log.info({ cutIdle }, cutIdle > 0 ? 'skeleton stopped: running streams finished, idle ones were cut' : 'skeleton stopped: every running stream finished');
  return { drained, cut: cutIdle + cutAtDeadline };
}
