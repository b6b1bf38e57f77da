/**
 * A world whose relay also serves its WebSocket endpoint, and targets that reach it over ws:// (both
 * roles share the endpoint; the peer adds role=).
 */
import type { ExecutionContext } from 'ava';
import type { RelayOptions } from '../../relay/index.js';
import type { RelayTarget } from '../../shared/peer/relay-address.js';
import type { WsTarget } from '../../shared/peer/relay-url.js';
import { startWorld, type UserSpec, type World } from './world.js';

export const WS_PATH = '/t/burrow-ws';

export async function startWsWorld(t: ExecutionContext, opts: { users?: Record<string, UserSpec>; relay?: Partial<RelayOptions> } = {}): Promise<World & { ws: RelayTarget }> {
  const world = await startWorld(t, { ...opts, relay: { wsPort: 0, wsPath: WS_PATH, ...opts.relay } });
  const ws = wsTarget(world, world.relay.addresses.ws!.port);
  return { ...world, ws, clientTarget: ws, skeletonTarget: ws };
}

/** The relay's WebSocket endpoint at `port` (the relay's own, or a proxy's in front of it). */
export function wsTarget(world: World, port: number, ws: Partial<WsTarget> = {}): RelayTarget {
  return { host: '127.0.0.1', port, fingerprint: world.identity.fingerprint, ws: { tls: false, path: WS_PATH, ...ws } };
}
