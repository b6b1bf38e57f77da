/**
 * startSkeleton(options): the skeleton as a library. Resolves once it is logged in and the relay has
 * answered its first Advertise; rejects at once on errors that retrying cannot fix (wrong password,
 * wrong relay key, protocol version), and otherwise keeps trying with backoff.
 */
import { Backoff } from '../shared/backoff.js';
import { BurrowError, codeOf, type ErrorCode } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/log.js';
import type { RelayTarget } from '../shared/peer/relay-address.js';
import type { Redacted } from '../shared/redacted.js';
import { SkeletonRuntime, type AdvertiseResult } from './io/skeleton-runtime.js';
import { checkServers, type SkeletonServer } from './io/skeleton-server.js';

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
  close(): Promise<void>;
}

const FATAL: ReadonlySet<ErrorCode> = new Set(['ERR_AUTH_FAILED', 'ERR_RELAY_KEY_MISMATCH', 'ERR_VERSION_MISMATCH', 'ERR_USAGE', 'ERR_NOT_A_RELAY']);

/** Logs in to one relay, retrying with backoff; rejects only on what retrying cannot fix. */
async function connectWithRetry(runtime: SkeletonRuntime, log: Logger, stopped: () => boolean, onRetry: (err: BurrowError) => void): Promise<void> {
  const backoff = new Backoff();
  while (!stopped()) {
    try {
      await runtime.connect();
      return;
    } catch (err) {
      if (FATAL.has(codeOf(err))) throw err;
      const delay = backoff.next(Date.now());
      log.warn({ code: codeOf(err), retryInMs: delay }, 'relay connection failed, retrying');
      onRetry(err instanceof BurrowError ? err : new BurrowError(codeOf(err)));
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
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
  const runtimes = targets.map((target) => new SkeletonRuntime(target, { user: options.user, password: options.password }, options.servers,
    targets.length > 1 ? log.child({ relay: `${target.host}:${target.port}` }) : log, {
      pool: options.pool ?? 2, poolMax: Math.max(options.pool ?? 2, options.poolMax ?? 16), targetTimeoutMs: options.targetTimeoutMs ?? 5000,
      onRetry: (err) => options.onRetry?.(target, err),
    }));
  let stopped = false;
  const stopAll = (): void => {
    stopped = true;
    for (const r of runtimes) r.stop();
  };
  try {
    const first = await new Promise<{ runtime: SkeletonRuntime; advertised: AdvertiseResult }>((resolve, reject) => {
      for (const runtime of runtimes) {
        runtime.once('advertised', (advertised) => resolve({ runtime, advertised }));
        connectWithRetry(runtime, log, () => stopped, (err) => runtime.onRetry(err)).then(() => {
          if (targets.length === 1) runtime.once('disconnected', (code) => reject(new BurrowError(code, 'lost the relay before advertising')));
        }, reject);
      }
    });
    return { advertised: first.advertised, runtime: first.runtime, runtimes, close: async () => stopAll() };
  } catch (err) {
    stopAll();
    throw err;
  }
}
