/** What the skeleton says when the relay refuses or withdraws a publication: why, and what fixes it. */
import type { ErrorCode } from '../shared/errors.js';
import { parsePublicationUrl } from '../shared/protocol/publication-url.js';

export function publishRefusal(url: string, code: ErrorCode, user: string, withdrawn = false): string {
  const target = parsePublicationUrl(url);
  const kind = typeof target === 'string' ? undefined : target.kind;
  const grant = typeof target === 'string' ? 'GRANT' : target.kind === 'tcp' || target.kind === 'udp' ? `${target.kind}:${target.port}` : target.host;
  const why: Partial<Record<ErrorCode, string>> = {
    ERR_PUBLISH_NOT_ALLOWED: `account ${user} may not publish it (on the relay: burrow users grant ${user} --publish '${grant}')`,
    ERR_PUBLICATION_TAKEN: 'another account publishes it',
    ERR_PORT_NOT_PUBLIC: "that port is outside the relay's --public-ports",
    ERR_INGRESS_OFF: `the relay offers no ${kind ?? ''} publications (it needs ${kind === 'http' ? '--http-port' : kind === 'https' ? '--https-port' : '--public-ports'})`,
    ERR_PORT_UNAVAILABLE: 'the relay could not listen on that port (something else holds it there)',
    ERR_INVALID_REQUEST: 'the relay found it invalid (a duplicate, or an allow/deny entry it does not accept)',
    ERR_CLUSTER_UNAVAILABLE: "the relay cluster's shared state is unreachable; trying again",
  };
  return `burrow skeleton: relay ${withdrawn ? 'withdrew' : 'refused to publish'} ${url}: ${why[code] ?? code} [${code}]`;
}
