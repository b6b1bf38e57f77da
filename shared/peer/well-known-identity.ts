/**
 * `burrow client trust --http`: the relay's identity as its admin port serves it, over plain HTTP:
 * `/.well-known/burrow/relay.json` ({fingerprint, clientPort, skeletonPort}) and
 * `/.well-known/burrow/relay.pub.jwk`. The fingerprint is recomputed from the JWK and must equal the
 * one relay.json states. Plain HTTP proves nothing by itself: the user confirms the fingerprint.
 */
import { createPublicKey } from 'node:crypto';
import { FINGERPRINT_RE, fingerprintMatches, fingerprintOf } from '../crypto/fingerprint.js';
import { BurrowError } from '../errors.js';
import { requireBuiltin } from '../require-builtin.js';
import { formatHostPort } from './relay-address.js';

export interface WellKnownIdentity {
  fingerprint: string;
  clientPort: number;
  skeletonPort: number;
}

const MAX_BYTES = 16 * 1024;
export const RELAY_JSON_PATH = '/.well-known/burrow/relay.json';
export const RELAY_JWK_PATH = '/.well-known/burrow/relay.pub.jwk';

/** node:http is loaded here, not with the module: every `client` command loads this one, few fetch. */
function fetchJson(host: string, port: number, path: string, timeoutMs: number): Promise<unknown> {
  const url = `http://${formatHostPort(host, port)}${path}`;
  const fail = (why: string) => new BurrowError('ERR_RELAY_UNREACHABLE', `${url}: ${why}`);
  const { get } = requireBuiltin<typeof import('node:http')>('node:http');
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: timeoutMs }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(fail(`HTTP ${res.statusCode ?? '?'}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BYTES) {
          req.destroy();
          reject(fail(`more than ${MAX_BYTES} bytes`));
        } else chunks.push(chunk);
      });
      res.on('error', () => reject(fail('response cut short')));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          reject(fail('not JSON'));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => reject(fail(err.code ?? err.message)));
  });
}

const isPort = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 65535;

export async function fetchWellKnownIdentity(host: string, port: number, timeoutMs = 10_000): Promise<WellKnownIdentity> {
  const [info, jwk] = await Promise.all([fetchJson(host, port, RELAY_JSON_PATH, timeoutMs), fetchJson(host, port, RELAY_JWK_PATH, timeoutMs)]);
  const where = `http://${formatHostPort(host, port)}`;
  const i = (info ?? {}) as Record<string, unknown>;
  if (typeof i.fingerprint !== 'string' || !FINGERPRINT_RE.test(i.fingerprint) || !isPort(i.clientPort) || !isPort(i.skeletonPort)) {
    throw new BurrowError('ERR_PROTOCOL', `${where}${RELAY_JSON_PATH}: expected {"fingerprint":"SHA256:...","clientPort":N,"skeletonPort":N}`);
  }
  const k = (jwk ?? {}) as Record<string, unknown>;
  if (k.kty !== 'OKP' || k.crv !== 'Ed25519' || typeof k.x !== 'string' || 'd' in k) {
    throw new BurrowError('ERR_PROTOCOL', `${where}${RELAY_JWK_PATH}: expected a public Ed25519 JWK`);
  }
  const publicJwk = { kty: 'OKP', crv: 'Ed25519', x: k.x } as const;
  try {
    createPublicKey({ key: publicJwk, format: 'jwk' });
  } catch {
    throw new BurrowError('ERR_PROTOCOL', `${where}${RELAY_JWK_PATH}: not a valid Ed25519 public key`);
  }
  const computed = fingerprintOf(publicJwk);
  if (!fingerprintMatches(i.fingerprint, computed)) {
    throw new BurrowError('ERR_RELAY_KEY_MISMATCH', `${where}: relay.json names a fingerprint that is not the one of relay.pub.jwk`);
  }
  return { fingerprint: computed, clientPort: i.clientPort, skeletonPort: i.skeletonPort };
}
