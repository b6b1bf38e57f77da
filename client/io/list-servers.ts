/**
 * Every server this account may see, page by page (the relay answers a listing in pages that fit a
 * control frame). Each page must continue strictly after the last, so a relay cannot keep us looping.
 */
import { BurrowError } from '../../shared/errors.js';
import type { ControlChannel } from '../../shared/peer/control-channel.js';
import type { ServerInfo } from '../../shared/protocol/messages.js';

/** More pages than any relay sends for its limits (sessions x servers per skeleton, thousands of servers). */
const MAX_PAGES = 10_000;

export async function listAll(control: ControlChannel): Promise<ServerInfo[]> {
  const servers: ServerInfo[] = [];
  let after: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const cursor = after;
    const reply = await control.request((id) => (cursor === undefined ? { t: 'list', id } : { t: 'list', id, after: cursor }));
    if (reply.t === 'error') throw new BurrowError(reply.code);
    if (reply.t !== 'servers') throw new BurrowError('ERR_PROTOCOL', `expected servers, got ${reply.t}`);
    if (cursor !== undefined && reply.servers.some((s) => s.id <= cursor)) throw new BurrowError('ERR_PROTOCOL', 'listing page out of order');
    servers.push(...reply.servers);
    if (reply.next === undefined) return servers;
    if (reply.servers.length === 0 || (cursor !== undefined && reply.next <= cursor)) throw new BurrowError('ERR_PROTOCOL', 'listing does not advance');
    after = reply.next;
  }
  throw new BurrowError('ERR_PROTOCOL', 'listing has too many pages');
}
