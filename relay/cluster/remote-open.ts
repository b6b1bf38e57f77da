/** A cross-relay open, the adapter's half: find a live relay holding the server and ask it to dial us. */
import type { Redis } from 'ioredis';
import type { Logger } from '../../shared/log.js';
import type { RelayEvent } from '../core/relay-events.js';
import { CHANNELS } from './cluster-keys.js';
import type { DialRequest } from './dial-request.js';
import type { SharedRegistry } from './redis-registry.js';

export interface RemoteOpenDeps {
  registry: SharedRegistry;
  redis: Redis;
  /** HOST:PORT of our skeleton port, for the holding relay's Dial. */
  origin: string;
  dispatch: (event: RelayEvent) => void;
  log: Logger;
}

/**
 * Finds a live relay holding `server` and publishes the dial request to it. The core learns the holder
 * before the request leaves, so the skeleton's ticket attach always finds its dial; a holder that no one
 * hears (a relay that died within its TTL) is skipped for the next.
 */
export async function openRemote(deps: RemoteOpenDeps, conn: number, server: string, dial: string): Promise<void> {
  let holders;
  try {
    holders = await deps.registry.lookup(server);
  } catch {
    return deps.dispatch({ type: 'cluster-found', conn, dial, unavailable: true });
  }
  if (holders.length === 0) return deps.dispatch({ type: 'cluster-found', conn, dial });
  for (const holder of holders) {
    deps.dispatch({ type: 'cluster-found', conn, dial, holder });
    const request: DialRequest = { dial, server, sid: holder.sid, origin: deps.origin };
    try {
      if ((await deps.redis.publish(CHANNELS.dial(holder.relay), JSON.stringify(request))) > 0) return;
      deps.log.info({ relay: holder.relay, server }, 'holding relay does not answer; trying the next');
    } catch {
      return deps.dispatch({ type: 'cluster-dial-failed', dial, code: 'ERR_CLUSTER_UNAVAILABLE' });
    }
  }
  deps.dispatch({ type: 'cluster-dial-failed', dial, code: 'ERR_SERVER_UNREACHABLE' });
}
