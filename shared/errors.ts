/**
 * The one registry of error codes. Every error burrow raises or sends on the wire carries a code from
 * this closed set; tests assert `.code`, never message text. Wire errors carry only the code.
 */
/**
 * How a peer that logs in to the relay treats a failure with this code:
 * - `stop`: retrying cannot fix it (the account, the relay's key, the version, our own config) and would
 *   only earn this address penalties at the relay: give up and say so.
 * - `soon`: the relay is not there (refused, closed, shutting down), or its login queue was full
 *   (ERR_BUSY: refused before any work, so a retry costs it nothing): the cheap case to try again, with a
 *   short capped backoff so a peer heals within seconds of the relay being back (see shared/backoff.ts).
 * - `later`: the relay is there but said no for now (throttled, limits, confused): exponential backoff
 *   up to 30 s, so a struggling relay is not hammered.
 * `failover`: another relay of the cluster may not have this problem: try the next address.
 */
export type RetryPolicy = 'stop' | 'soon' | 'later';

interface CodeSpec {
  exit: number;
  wire: boolean;
  retry: RetryPolicy;
  failover: boolean;
  text: string;
}

export const ERROR_CODES = {
  ERR_AUTH_FAILED: { exit: 3, wire: true, retry: 'stop', failover: false, text: 'authentication failed' },
  ERR_THROTTLED: { exit: 3, wire: true, retry: 'later', failover: false, text: 'too many failed attempts from this address or for this user; try again later' },
  ERR_RELAY_KEY_MISMATCH: { exit: 3, wire: false, retry: 'stop', failover: false, text: 'the relay did not prove the pinned key (fingerprint mismatch or bad signature)' },
  ERR_VERSION_MISMATCH: { exit: 1, wire: true, retry: 'stop', failover: false, text: 'protocol version not supported' },
  ERR_FRAME_TOO_LARGE: { exit: 1, wire: true, retry: 'later', failover: false, text: 'frame larger than allowed' },
  ERR_MALFORMED_FRAME: { exit: 1, wire: true, retry: 'later', failover: false, text: 'frame could not be decoded or has an invalid shape' },
  ERR_PROTOCOL: { exit: 1, wire: true, retry: 'later', failover: false, text: 'message not expected in this state' },
  ERR_DECRYPT: { exit: 1, wire: false, retry: 'later', failover: false, text: 'sealed frame failed authentication (tampered, replayed or reordered)' },
  ERR_HANDSHAKE_TIMEOUT: { exit: 1, wire: true, retry: 'later', failover: false, text: 'handshake not completed in time' },
  ERR_UNKNOWN_SERVER: { exit: 4, wire: true, retry: 'later', failover: false, text: 'no such server, or not allowed' },
  ERR_SERVER_UNREACHABLE: { exit: 4, wire: true, retry: 'later', failover: false, text: 'server did not answer in time or its target refused the connection' },
  ERR_E2E_HANDSHAKE_FAILED: { exit: 4, wire: false, retry: 'later', failover: false, text: 'end-to-end handshake failed (wrong server secret?)' },
  ERR_STREAM_TRUNCATED: { exit: 1, wire: false, retry: 'later', failover: false, text: 'stream ended without an authenticated close' },
  ERR_SERVER_ID_NOT_ALLOWED: { exit: 1, wire: true, retry: 'later', failover: false, text: 'this account may not serve that id' },
  ERR_SERVER_ID_TAKEN: { exit: 1, wire: true, retry: 'later', failover: false, text: 'that id is served by another account' },
  ERR_PROXY_NOT_ALLOWED: { exit: 1, wire: true, retry: 'later', failover: false, text: 'this relay does not allow PROXY protocol headers' },
  ERR_PUBLISH_NOT_ALLOWED: { exit: 1, wire: true, retry: 'later', failover: false, text: 'this account may not publish that port or host name' },
  ERR_PUBLICATION_TAKEN: { exit: 1, wire: true, retry: 'later', failover: false, text: 'that port or host name is published by another account' },
  ERR_PORT_NOT_PUBLIC: { exit: 1, wire: true, retry: 'later', failover: false, text: 'the relay does not offer that port for publication (outside --public-ports)' },
  ERR_INGRESS_OFF: { exit: 1, wire: true, retry: 'later', failover: false, text: 'the relay does not offer that kind of publication (no --http-port, --https-port or --public-ports)' },
  ERR_PORT_UNAVAILABLE: { exit: 1, wire: true, retry: 'later', failover: false, text: 'the relay could not listen on that public port' },
  ERR_INVALID_REQUEST: { exit: 1, wire: true, retry: 'later', failover: false, text: 'request is well-formed but invalid' },
  ERR_LIMIT: { exit: 1, wire: true, retry: 'later', failover: true, text: 'a configured limit was reached' },
  ERR_BUSY: { exit: 1, wire: true, retry: 'soon', failover: true, text: 'the relay is too busy to check this login now; try again shortly' },
  ERR_SESSION_ENDED: { exit: 1, wire: true, retry: 'later', failover: false, text: 'the session this stream was opened by has ended' },
  ERR_CLUSTER_UNAVAILABLE: { exit: 1, wire: true, retry: 'later', failover: true, text: 'the relay cluster\'s shared state (Redis) is unreachable; try another relay or later' },
  ERR_SHUTTING_DOWN: { exit: 1, wire: true, retry: 'soon', failover: true, text: 'shutting down (the relay, or the skeleton serving it)' },
  ERR_CONNECTION_CLOSED: { exit: 1, wire: false, retry: 'soon', failover: true, text: 'connection closed' },
  ERR_RELAY_UNREACHABLE: { exit: 1, wire: false, retry: 'soon', failover: true, text: 'could not connect to the relay' },
  ERR_TIMEOUT: { exit: 1, wire: false, retry: 'later', failover: true, text: 'timed out' },
  ERR_PROXY_AUTH: { exit: 3, wire: false, retry: 'stop', failover: false, text: 'the HTTP proxy wants other credentials (407)' },
  ERR_PROXY_REFUSED: { exit: 1, wire: false, retry: 'later', failover: true, text: 'the HTTP proxy refused to connect to the relay' },
  ERR_TLS: { exit: 3, wire: false, retry: 'later', failover: true, text: 'TLS to the relay\'s WebSocket endpoint failed (certificate not trusted or not for this name)' },
  ERR_NOT_FOUND: { exit: 1, wire: false, retry: 'later', failover: false, text: 'no such resource' },
  ERR_NOT_A_RELAY: { exit: 2, wire: false, retry: 'stop', failover: false, text: 'not a burrow relay port' },
  ERR_LISTEN: { exit: 2, wire: false, retry: 'stop', failover: false, text: 'cannot listen' },
  ERR_CONFIG: { exit: 2, wire: false, retry: 'stop', failover: false, text: 'invalid configuration' },
  ERR_USAGE: { exit: 2, wire: false, retry: 'stop', failover: false, text: 'invalid usage' },
  ERR_INTERNAL: { exit: 1, wire: true, retry: 'later', failover: false, text: 'internal error' },
} as const satisfies Record<string, CodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** How to retry after a failure with this code (see RetryPolicy); anything but a BurrowError is `later`. */
export function retryOf(err: unknown): RetryPolicy {
  return ERROR_CODES[codeOf(err)].retry;
}

/** Whether a failure with this code may not happen at another relay of the cluster. */
export function failsOver(err: unknown): boolean {
  return ERROR_CODES[codeOf(err)].failover;
}

/** Codes that may travel on the wire; anything else is sent as ERR_INTERNAL. */
export function wireCode(code: ErrorCode): ErrorCode {
  return ERROR_CODES[code].wire ? code : 'ERR_INTERNAL';
}

export class BurrowError extends Error {
  readonly code: ErrorCode;
  /** What the message says after the code's text, if anything. */
  readonly detail: string | undefined;
  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${ERROR_CODES[code].text}: ${detail}` : ERROR_CODES[code].text, options);
    this.name = 'BurrowError';
    this.code = code;
    this.detail = detail;
  }
  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }
}

/** The code of any thrown value: a BurrowError's own, else ERR_INTERNAL. */
export function codeOf(err: unknown): ErrorCode {
  return err instanceof BurrowError ? err.code : 'ERR_INTERNAL';
}

export function exitCodeOf(err: unknown): number {
  return ERROR_CODES[codeOf(err)].exit;
}
