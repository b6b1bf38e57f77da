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

export function listingPage(visible: ServerInfo[], after: string | undefined): { servers: ServerInfo[]; next?: string } {
  const sorted = [...visible].sort(byId);
  const start = after === undefined ? 0 : sorted.findIndex((s) => s.id > after);
  if (start < 0) return { servers: [] };
  const servers: ServerInfo[] = [];
  let bytes = 0;
  for (let i = start; i < sorted.length; i++) {
    const info = sorted[i]!;
    bytes += entryBytes(info);
    if (servers.length === MAX_SERVERS_PER_MESSAGE || bytes > PAGE_BYTES) return { servers, next: servers.at(-1)!.id };
    servers.push({ id: info.id, description: info.description, protocol: info.protocol });
  }
  return { servers };
}
