/**
 * What a skeleton's 'stream refused' line adds for an operator: the address of the home server it
 * could not reach and why (ECONNREFUSED, a timeout), so that "home-web is down" needs no second look
 * at the config. Only for an unreachable home server: other refusals (a wrong secret, a limit) concern
 * the peer, and their detail is the peer's doing, not worth a log line's room.
 */
import { BurrowError } from '../../shared/errors.js';

export function refusalDetail(err: unknown, server: { host: string; port: number }): { target?: string; cause?: string } {
  if (!(err instanceof BurrowError) || err.code !== 'ERR_SERVER_UNREACHABLE') return {};
  const target = server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
  return { target, ...(err.detail ? { cause: err.detail } : {}) };
}
