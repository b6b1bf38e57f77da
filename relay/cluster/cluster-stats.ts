/**
 * Dashboard counters shared across the cluster (best effort): each relay writes its totals into its own
 * hash on every heartbeat, with the registry's TTL; any relay's admin API can show them all.
 */
import type { Redis } from 'ioredis';
import { KEYS } from './cluster-keys.js';

export type RelayStats = Record<string, number>;

export async function publishStats(redis: Redis, relayId: string, ttlMs: number, stats: RelayStats): Promise<void> {
  const key = KEYS.statsPrefix + relayId;
  await redis.multi().del(key).hset(key, stats).pexpire(key, ttlMs).exec();
}

/** Every live relay's last published counters, by relay id. */
export async function readStats(redis: Redis, now: number): Promise<{ relay: string; stats: RelayStats }[]> {
  const relays = await redis.zrangebyscore(KEYS.relays, now, '+inf');
  const out: { relay: string; stats: RelayStats }[] = [];
  for (const relay of relays.sort()) {
    const raw = await redis.hgetall(KEYS.statsPrefix + relay);
    const stats: RelayStats = {};
    for (const [k, v] of Object.entries(raw)) if (Number.isFinite(Number(v))) stats[k] = Number(v);
    out.push({ relay, stats });
  }
  return out;
}
