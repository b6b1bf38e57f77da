/**
 * A home server gets its own certificate from an ACME CA through the relay, the whole point of SNI
 * passthrough: Caddy at home (bound to loopback only) asks pebble, a real ACME test CA, which validates
 * by connecting to the name's address, the relay's public ports: HTTP-01 over the shared HTTP port,
 * TLS-ALPN-01 over the shared HTTPS port. Then curl, trusting only the CA's root, gets the page over
 * HTTPS through the relay, which never held a key for the name.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startAcmeLab, startHomeCaddy } from '../helpers/acme-lab.js';
import { privateLoopback, startTestSkeleton, startWorld, tempDir, type UserSpec } from '../helpers/world.js';

const exec = promisify(execFile);
const USERS: Record<string, UserSpec> = { home: { roles: ['skeleton'], serve: ['home-*'], publish: ['*.home.example.net'] } };
const NAME = 'www.home.example.net';

async function issuance(t: ExecutionContext, challenge: 'http-01' | 'tls-alpn-01'): Promise<void> {
  const relayHost = privateLoopback();
  const home = privateLoopback();
  const world = await startWorld(t, { users: USERS, relay: { publicHost: relayHost, httpPort: 5002, httpsPort: 5001 } });
  const dir = await tempDir(t);
  const lab = await startAcmeLab(t, dir, { host: relayHost, httpPort: 5002, httpsPort: 5001 });
  await startTestSkeleton(t, world, [
    { id: 'home-web', host: home, port: 18080, description: '', protocol: 'http', publications: [{ server: 'home-web', url: `http://${NAME}` }] },
    { id: 'home-tls', host: home, port: 18443, description: '', protocol: 'https', publications: [{ server: 'home-tls', url: `https://${NAME}` }] },
  ]);
  const caddy = await startHomeCaddy(t, dir, lab, { name: NAME, bind: home, httpPort: 18080, httpsPort: 18443, challenge });
  await caddy.obtained;
  const root = await lab.issuingRoot();
  const page = await exec('curl', ['-sS', '--fail', '--cacert', root, '--resolve', `${NAME}:5001:${relayHost}`, `https://${NAME}:5001/`]);
  t.is(page.stdout, 'hello from home over https');
  const validated = world.relay.ingress.stats.get(challenge === 'http-01' ? `http://${NAME}` : `https://${NAME}`);
  t.true((validated?.connections ?? 0) >= 1, 'the CA reached the home server through the relay');
}

test('a home Caddy gets its certificate from an ACME CA by HTTP-01 through the relay\'s HTTP port', (t) => issuance(t, 'http-01'));
test('a home Caddy gets its certificate from an ACME CA by TLS-ALPN-01 through the relay\'s HTTPS port', (t) => issuance(t, 'tls-alpn-01'));
