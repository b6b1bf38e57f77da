/**
 * What a client or skeleton command tells its user when the relay will not have it: the same codes and
 * exit codes as the library's errors, with what to check and what to do. Only local knowledge goes in
 * (the flags given, the default ports): the relay's answer itself stays the same for every failure (S5).
 */
import { BurrowError } from '../errors.js';

export interface PeerContext {
  role: 'client' | 'skeleton';
  /** The --relay address(es) as given. */
  relay: string;
  user: string;
  /** Where the password came from, e.g. `the first line of alice.pass`. */
  passwordFrom: string;
}

const PORTS = { client: 7000, skeleton: 7001 } as const;

function portAdvice(role: PeerContext['role']): string {
  const other = role === 'client' ? 'skeleton' : 'client';
  return `the relay's ${role} port (${PORTS[role]} by default; ${PORTS[other]} is for ${other}s)`;
}

/** The error a command reports for `err`: rewritten with advice for the codes a user can act on. */
export function explainPeerFailure(err: BurrowError, ctx: PeerContext): BurrowError;
export function explainPeerFailure(err: unknown, ctx: PeerContext): unknown;
export function explainPeerFailure(err: unknown, ctx: PeerContext): unknown {
  if (!(err instanceof BurrowError)) return err;
  const { role, relay, user, passwordFrom } = ctx;
  switch (err.code) {
    case 'ERR_AUTH_FAILED':
      return new BurrowError(err.code, `the relay at ${relay} did not accept ${user}: check --user ${user} (a ${role} account, made on the relay with burrow users add ${user} --role ${role}), the password (${passwordFrom}), and that --relay is ${portAdvice(role)}`);
    case 'ERR_THROTTLED':
      return new BurrowError(err.code, `the relay is refusing logins from this address for a while after failed ones (from any account here, behind a shared NAT too): wait at least 15 seconds before trying again (each further failure makes the wait longer, up to 10 minutes; a user name under attack stays throttled up to 5 minutes), and first check --user ${user} and the password (${passwordFrom})`);
    case 'ERR_RELAY_KEY_MISMATCH':
      return new BurrowError(err.code, `this ${role} refused the relay at ${relay} (${err.detail ?? 'its key is not the pinned one'}). If its operator rotated the relay key, get the new fingerprint from them and update the one you give (--fingerprint, BURROW_FINGERPRINT or fingerprint in the config file, which wins over a pin) or, if you rely on the known-relays file, re-pin with burrow client trust ${relay} --replace; if not, something else is answering at that address`);
    case 'ERR_NOT_A_RELAY':
      return new BurrowError(err.code, `${err.detail ?? relay}: point --relay at ${portAdvice(role)}`);
    case 'ERR_RELAY_UNREACHABLE': // its detail names the address
      return new BurrowError(err.code, `${err.detail ?? relay}: is the relay running, and is that ${portAdvice(role)}?`);
    case 'ERR_CONNECTION_CLOSED':
    case 'ERR_TIMEOUT':
      return new BurrowError(err.code, `${relay}${err.detail ? ` (${err.detail})` : ''}: is the relay running, and is that ${portAdvice(role)}?`);
    default:
      return err;
  }
}
