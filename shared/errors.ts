/**
 * The one registry of error codes. Every error burrow raises or sends on the wire carries a code from
 * this closed set; tests assert `.code`, never message text. Wire errors carry only the code.
 */
export const ERROR_CODES = {
  ERR_AUTH_FAILED: { exit: 3, wire: true, text: 'authentication failed' },
  ERR_THROTTLED: { exit: 3, wire: true, text: 'too many failed attempts from this address or for this user; try again later' },
  ERR_RELAY_KEY_MISMATCH: { exit: 3, wire: false, text: 'the relay did not prove the pinned key (fingerprint mismatch or bad signature)' },
  ERR_VERSION_MISMATCH: { exit: 1, wire: true, text: 'protocol version not supported' },
  ERR_FRAME_TOO_LARGE: { exit: 1, wire: true, text: 'frame larger than allowed' },
  ERR_MALFORMED_FRAME: { exit: 1, wire: true, text: 'frame could not be decoded or has an invalid shape' },
  ERR_PROTOCOL: { exit: 1, wire: true, text: 'message not expected in this state' },
  ERR_DECRYPT: { exit: 1, wire: false, text: 'sealed frame failed authentication (tampered, replayed or reordered)' },
  ERR_HANDSHAKE_TIMEOUT: { exit: 1, wire: true, text: 'handshake not completed in time' },
  ERR_UNKNOWN_SERVER: { exit: 4, wire: true, text: 'no such server, or not allowed' },
  ERR_SERVER_UNREACHABLE: { exit: 4, wire: true, text: 'server did not answer in time or its target refused the connection' },
  ERR_E2E_HANDSHAKE_FAILED: { exit: 4, wire: false, text: 'end-to-end handshake failed (wrong server secret?)' },
  ERR_STREAM_TRUNCATED: { exit: 1, wire: false, text: 'stream ended without an authenticated close' },
  ERR_SERVER_ID_NOT_ALLOWED: { exit: 1, wire: true, text: 'this account may not serve that id' },
  ERR_SERVER_ID_TAKEN: { exit: 1, wire: true, text: 'that id is served by another account' },
  ERR_PROXY_NOT_ALLOWED: { exit: 1, wire: true, text: 'this relay does not allow PROXY protocol headers' },
  ERR_INVALID_REQUEST: { exit: 1, wire: true, text: 'request is well-formed but invalid' },
  ERR_LIMIT: { exit: 1, wire: true, text: 'a configured limit was reached' },
  ERR_BUSY: { exit: 1, wire: true, text: 'the relay is too busy to check this login now; try again shortly' },
  ERR_SESSION_ENDED: { exit: 1, wire: true, text: 'the session this stream was opened by has ended' },
  ERR_CLUSTER_UNAVAILABLE: { exit: 1, wire: true, text: 'the relay cluster\'s shared state (Redis) is unreachable; try another relay or later' },
  ERR_SHUTTING_DOWN: { exit: 1, wire: true, text: 'relay is shutting down' },
  ERR_CONNECTION_CLOSED: { exit: 1, wire: false, text: 'connection closed' },
  ERR_RELAY_UNREACHABLE: { exit: 1, wire: false, text: 'could not connect to the relay' },
  ERR_TIMEOUT: { exit: 1, wire: false, text: 'timed out' },
  ERR_NOT_FOUND: { exit: 1, wire: false, text: 'no such resource' },
  ERR_NOT_A_RELAY: { exit: 2, wire: false, text: 'not a burrow relay port' },
  ERR_LISTEN: { exit: 2, wire: false, text: 'cannot listen' },
  ERR_CONFIG: { exit: 2, wire: false, text: 'invalid configuration' },
  ERR_USAGE: { exit: 2, wire: false, text: 'invalid usage' },
  ERR_INTERNAL: { exit: 1, wire: true, text: 'internal error' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
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
