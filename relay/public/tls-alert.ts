/**
 * The one TLS record the relay ever writes on the shared HTTPS port: a fatal alert (RFC 8446 6), sent in
 * clear before closing when it will not route a ClientHello. The record's legacy version is 0x0303
 * (TLS 1.2): RFC 8446 5.1 has every TLS 1.3 record but the first ClientHello carry it, TLS 1.2 servers
 * send it too, and clients do not check the version of the first record they receive beyond its major
 * byte (no version has been negotiated yet), so TLS 1.0 to 1.3 clients all read it as an alert.
 */
import type { HelloRefusal } from './client-hello.js';

const CONTENT_ALERT = 21;
const LEVEL_FATAL = 2;

export const ALERT_HANDSHAKE_FAILURE = 40;
export const ALERT_DECODE_ERROR = 50;
export const ALERT_UNRECOGNIZED_NAME = 112;

/** A fatal alert record with this description. */
export function tlsAlert(description: number): Buffer {
  return Buffer.from([CONTENT_ALERT, 0x03, 0x03, 0x00, 0x02, LEVEL_FATAL, description]);
}

/** For a hello whose server name no publication serves (RFC 6066 3). */
export function unrecognizedNameAlert(): Buffer {
  return tlsAlert(ALERT_UNRECOGNIZED_NAME);
}

/**
 * What to write before closing on a refused hello: decode_error for bytes that are TLS but do not parse,
 * handshake_failure for a hello we will not serve (no server name, or too large to read); nothing for
 * bytes that are not TLS at all (an HTTP request on the HTTPS port, a scanner), which would not read it.
 */
export function alertForRefusal(reason: HelloRefusal): Buffer | undefined {
  switch (reason) {
    case 'not-tls':
      return undefined;
    case 'malformed':
      return tlsAlert(ALERT_DECODE_ERROR);
    case 'no-sni':
    case 'too-large':
      return tlsAlert(ALERT_HANDSHAKE_FAILURE);
  }
}
