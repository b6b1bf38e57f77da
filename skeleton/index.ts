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
import type { SkeletonServer } from './io/skeleton-server.js';

export type { SkeletonServer } from './io/skeleton-server.js';
export type { AdvertiseResult } from './io/skeleton-runtime.js';

export interface SkeletonOptions {
  relay: RelayTarget;
  user: string;
  password: Redacted<string>;
  servers: SkeletonServer[];
  /** Idle data connections kept at the relay (default 2); grows with demand up to poolMax (default 16). */
  pool?: number;
  poolMax?: number;
  /** How long to wait for a local target to accept (default 5 s). */
  targetTimeoutMs?: number;
  log?: Logger;
}

export interface SkeletonHandle {
  /** What the relay accepted and refused at the first advertise. */
  advertised: AdvertiseResult;
  runtime: SkeletonRuntime;
  close(): Promise<void>;
}

const FATAL: ReadonlySet<ErrorCode> = new Set(['ERR_AUTH_FAILED', 'ERR_RELAY_KEY_MISMATCH', 'ERR_VERSION_MISMATCH', 'ERR_USAGE']);

export async function startSkeleton(options: SkeletonOptions): Promise<SkeletonHandle> {
  const log = options.log ?? silentLogger();
  const runtime = new SkeletonRuntime(options.relay, { user: options.user, password: options.password }, options.servers, log, {
    pool: options.pool ?? 2, poolMax: Math.max(options.pool ?? 2, options.poolMax ?? 16), targetTimeoutMs: options.targetTimeoutMs ?? 5000,
  });
  const advertised = new Promise<AdvertiseResult>((resolve) => runtime.once('advertised', resolve));
  const backoff = new Backoff();
  for (;;) {
    try {
      await runtime.connect();
      break;
    } catch (err) {
      if (FATAL.has(codeOf(err))) {
        runtime.stop();
        throw err;
      }
      const delay = backoff.next(Date.now());
      log.warn({ code: codeOf(err), retryInMs: delay }, 'relay connection failed, retrying');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  const first = await Promise.race([
    advertised,
    new Promise<never>((_, reject) => runtime.once('disconnected', (code) => reject(new BurrowError(code, 'lost the relay before advertising')))),
  ]);
  return {
    advertised: first,
    runtime,
    close: async () => runtime.stop(),
  };
}
