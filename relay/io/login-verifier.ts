/**
 * The slow half of a login, off the core: open the JWE with the connection's ephemeral key, verify the
 * password with argon2id (an unknown user costs the same), and seal the Welcome if it matched.
 */
import { openLogin, type LoginClaims } from '../../shared/crypto/login-token.js';
import { sealWelcome } from '../../shared/crypto/welcome-token.js';
import { Redacted } from '../../shared/redacted.js';
import type { LoginVerdict, RelayCommand } from '../core/relay-events.js';
import type { PasswordHasher } from '../users/password-hash.js';
import type { UsersStore } from './users-store.js';

type VerifyCommand = Extract<RelayCommand, { type: 'verify-login' }>;

export async function verifyLogin(cmd: VerifyCommand, users: UsersStore, hasher: PasswordHasher): Promise<LoginVerdict> {
  let claims: LoginClaims | undefined;
  try {
    claims = await openLogin(cmd.eph.privateKey, cmd.jwe);
  } catch {
    // Not a login for this key: the same argon2 work follows so the failure looks like any other.
    claims = undefined;
  }
  const record = claims ? (await users.current()).get(claims.user) : undefined;
  const passwordOk = await hasher.verify(record?.hash, claims?.password ?? new Redacted(''));
  if (!claims || !record || !passwordOk) return { ...(claims ? { claims } : {}), ...(record ? { record } : {}), passwordOk: false };
  const welcomeJwe = await sealWelcome(claims.clientKey, { sid: cmd.grant.sid, sessionKey: cmd.grant.sessionKey, exp: cmd.grant.exp, pingMs: cmd.grant.pingMs });
  return { claims, record, passwordOk, welcomeJwe };
}
