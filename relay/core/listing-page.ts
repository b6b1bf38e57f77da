/**
 * A listing is answered in pages that always fit a control frame: servers sorted by id, those after the
 * peer's cursor, as many as fit PAGE_BYTES (and at most MAX_SERVERS_PER_MESSAGE); `next` names the last
 * id of a page that is not the last one. However many servers accounts advertise and however long their
 * descriptions, every Servers reply stays under FRAME_LIMITS.control.
 */
import { MAX_SERVERS_PER_MESSAGE } from '../../shared/protocol/parse.js';
import type { ServerInfo } from '../../shared/protocol/messages.js';

/** Room for the servers of one page: the control frame limit (64 KiB) less the seal and the reply's own fields. */
export const PAGE_BYTES = 48 * 1024;
/** msgpack map and key overhead of one server entry, generously. */
const ENTRY_OVERHEAD = 40;

function entryBytes(info: ServerInfo): number {
  return ENTRY_OVERHEAD + Buffer.byteLength(info.id) + Buffer.byteLength(info.description) + Buffer.byteLength(info.protocol);
}

/** Code-point order, the same on every relay whatever its locale. */
export function byId(a: ServerInfo, b: ServerInfo): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * One page of `sorted` (by id, as byId orders them): the entries after `after` that `visible` allows,
 * as many as fit. The scan starts by binary search and stops as soon as the page is full, so a page costs
 * its own entries plus the invisible ones it skips, never a sort.
 */
export function listingPage(sorted: readonly ServerInfo[], after: string | undefined, visible: (id: string) => boolean): { servers: ServerInfo[]; next?: string } {
  let lo = 0;
  let hi = sorted.length;
  while (after !== undefined && lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]!.id <= after) lo = mid + 1;
    else hi = mid;
  }
  const servers: ServerInfo[] = [];
  let bytes = 0;
  for (let i = lo; i < sorted.length; i++) {
    const info = sorted[i]!;
    if (!visible(info.id)) continue;
    bytes += entryBytes(info);
    if (servers.length === MAX_SERVERS_PER_MESSAGE || bytes > PAGE_BYTES) return { servers, next: servers.at(-1)!.id };
    servers.push({ id: info.id, description: info.description, protocol: info.protocol });
  }
  return { servers };
}
