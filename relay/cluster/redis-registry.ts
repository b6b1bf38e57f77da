/**
 * The cluster's shared registry in Redis. Each relay keeps its own registrations in one hash that it
 * rewrites on every change and on every heartbeat, with a TTL, so a dead relay's entries expire; a
 * sorted set of live relays (score = expiry) tells live hashes from stale ones. An owner key per id
 * (account name, same TTL) keeps S9 across relays: another account can never take a live id, while the
 * same account may hold it on several relays at once. Every multi-key step is one Lua script, so it is
 * atomic. Nothing secret is stored: ids, account names, descriptions, session ids. Publication urls are
 * owned the same way, by the same scripts run over their own keys (a hash per relay, an owner key per url).
 */
import type { Redis } from 'ioredis';
import type { ServerInfo } from '../../shared/protocol/messages.js';
import type { RemoteHolder } from '../core/relay-events.js';
import { KEYS } from './cluster-keys.js';

/** One registration as stored in a relay's hash. */
export interface SharedEntry {
  id: string;
  user: string;
  sid: string;
  info: ServerInfo;
  proxy?: 'v1' | 'v2';
}

/** What a relay needs from the shared registry; the embedded default (no cluster) needs none of it. */
export interface SharedRegistry {
  /**
   * Claims ids for one account and publishes those it got at once (so an accepted Advertise is visible
   * to every relay before the skeleton hears it); returns the ids another account holds.
   */
  claim(user: string, entries: SharedEntry[]): Promise<string[]>;
  /** Publishes this relay's whole registry (and keeps it alive); returns ids another account holds. */
  sync(entries: SharedEntry[]): Promise<string[]>;
  /** Claims publication urls for one account; returns the urls another account holds. */
  claimPublications(user: string, urls: string[]): Promise<string[]>;
  /** Publishes this relay's whole set of publications (and keeps it alive); returns urls another account holds. */
  syncPublications(publications: { url: string; user: string }[]): Promise<string[]>;
  /** Other live relays holding `id`. */
  lookup(id: string): Promise<RemoteHolder[]>;
  /** What other live relays hold. */
  list(): Promise<ServerInfo[]>;
}

/** Where one kind of owned name lives: a hash per relay and an owner key per name. */
interface Namespace { hash: string; owner: string }

const IDS: Namespace = { hash: KEYS.relayPrefix, owner: KEYS.ownerPrefix };
const PUBLICATIONS: Namespace = { hash: KEYS.publicationsPrefix, owner: KEYS.publicationOwnerPrefix };

const syncScript = (ns: Namespace): string => `
local rid, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local entries = cjson.decode(ARGV[4])
local hkey = '${ns.hash}' .. rid
redis.call('ZREMRANGEBYSCORE', '${KEYS.relays}', '-inf', now)
redis.call('ZADD', '${KEYS.relays}', now + ttl, rid)
local old = redis.call('HKEYS', hkey)
redis.call('DEL', hkey)
-- mine[id]: true = held here, false = another account owns it (its owner key is not ours to delete)
local mine, conflicts = {}, {}
for _, e in ipairs(entries) do
  local okey = '${ns.owner}' .. e.id
  local owner = redis.call('GET', okey)
  if owner and owner ~= e.user then
    table.insert(conflicts, e.id)
    mine[e.id] = false
  else
    redis.call('SET', okey, e.user, 'PX', ttl)
    redis.call('HSET', hkey, e.id, cjson.encode(e))
    mine[e.id] = true
  end
end
redis.call('PEXPIRE', hkey, ttl)
local relays = redis.call('ZRANGE', '${KEYS.relays}', 0, -1)
for _, id in ipairs(old) do
  if mine[id] == nil then
    local still = false
    for _, r in ipairs(relays) do
      if r ~= rid and redis.call('HEXISTS', '${ns.hash}' .. r, id) == 1 then still = true end
    end
    if not still then redis.call('DEL', '${ns.owner}' .. id) end
  end
end
return conflicts`;

const claimScript = (ns: Namespace): string => `
local rid, now, ttl, user = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local hkey = '${ns.hash}' .. rid
local out = {}
for _, e in ipairs(cjson.decode(ARGV[5])) do
  local okey = '${ns.owner}' .. e.id
  local owner = redis.call('GET', okey)
  if owner and owner ~= user then
    table.insert(out, e.id)
  else
    redis.call('SET', okey, user, 'PX', ttl)
    redis.call('HSET', hkey, e.id, cjson.encode(e))
  end
end
redis.call('PEXPIRE', hkey, ttl)
redis.call('ZADD', '${KEYS.relays}', now + ttl, rid)
return out`;

const SYNC = syncScript(IDS);
const CLAIM = claimScript(IDS);
const SYNC_PUBLICATIONS = syncScript(PUBLICATIONS);
const CLAIM_PUBLICATIONS = claimScript(PUBLICATIONS);

const LOOKUP = `
local out = {}
for _, r in ipairs(redis.call('ZRANGEBYSCORE', '${KEYS.relays}', ARGV[2], '+inf')) do
  if r ~= ARGV[1] then
    local v = redis.call('HGET', '${KEYS.relayPrefix}' .. r, ARGV[3])
    if v then table.insert(out, r) table.insert(out, v) end
  end
end
return out`;

const LIST = `
local out = {}
for _, r in ipairs(redis.call('ZRANGEBYSCORE', '${KEYS.relays}', ARGV[2], '+inf')) do
  if r ~= ARGV[1] then
    for _, v in ipairs(redis.call('HVALS', '${KEYS.relayPrefix}' .. r)) do table.insert(out, v) end
  end
end
return out`;

function parseEntry(json: string): SharedEntry | undefined {
  try {
    const e = JSON.parse(json) as SharedEntry;
    return typeof e.id === 'string' && typeof e.user === 'string' && typeof e.sid === 'string' && typeof e.info?.id === 'string' ? e : undefined;
  } catch {
    return undefined;
  }
}

export class RedisRegistry implements SharedRegistry {
  constructor(private readonly redis: Redis, private readonly relayId: string, private readonly ttlMs: number, private readonly now: () => number = Date.now) {}

  async claim(user: string, entries: SharedEntry[]): Promise<string[]> {
    return (await this.redis.eval(CLAIM, 0, this.relayId, this.now(), this.ttlMs, user, JSON.stringify(entries))) as string[];
  }

  async sync(entries: SharedEntry[]): Promise<string[]> {
    // cjson encodes an empty table as an object; an empty list is fine either way.
    return (await this.redis.eval(SYNC, 0, this.relayId, this.now(), this.ttlMs, JSON.stringify(entries))) as string[];
  }

  async claimPublications(user: string, urls: string[]): Promise<string[]> {
    const entries = urls.map((url) => ({ id: url, user }));
    return (await this.redis.eval(CLAIM_PUBLICATIONS, 0, this.relayId, this.now(), this.ttlMs, user, JSON.stringify(entries))) as string[];
  }

  async syncPublications(publications: { url: string; user: string }[]): Promise<string[]> {
    const entries = publications.map((p) => ({ id: p.url, user: p.user }));
    return (await this.redis.eval(SYNC_PUBLICATIONS, 0, this.relayId, this.now(), this.ttlMs, JSON.stringify(entries))) as string[];
  }

  async lookup(id: string): Promise<RemoteHolder[]> {
    const flat = (await this.redis.eval(LOOKUP, 0, this.relayId, this.now(), id)) as string[];
    const holders: RemoteHolder[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const entry = parseEntry(flat[i + 1]!);
      if (entry) holders.push({ relay: flat[i]!, sid: entry.sid, user: entry.user, ...(entry.proxy ? { proxy: entry.proxy } : {}) });
    }
    return holders;
  }

  async list(): Promise<ServerInfo[]> {
    const values = (await this.redis.eval(LIST, 0, this.relayId, this.now())) as string[];
    return values.map(parseEntry).filter((e) => e !== undefined).map((e) => ({ id: e.info.id, description: e.info.description, protocol: e.info.protocol }));
  }
}
