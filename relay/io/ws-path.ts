/**
 * The relay's WebSocket endpoint path: its default and what a configured one may be. Apart from the
 * listener (ws-listener.ts) so that `burrow relay --help` and the config check do not load ws.
 */
export const DEFAULT_WS_PATH = '/burrow';

export function wsPathProblem(path: string): string | undefined {
  return /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(path) ? undefined : `expected an absolute URL path such as /burrow, got ${JSON.stringify(path)}`;
}
