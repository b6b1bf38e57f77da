/**
 * A real ACME certificate authority on loopback for public-ingress tests: pebble (the ACME test CA)
 * and pebble-challtestsrv (its DNS, answering every name with the relay's public address), each on a
 * loopback address of its own so their fixed ports never collide with another test's. Pebble validates
 * HTTP-01 at port `httpPort` and TLS-ALPN-01 at `tlsPort` of that address: the relay's shared HTTP and
 * HTTPS ports. Its API certificate is made here with openssl; its issuing root is fetched when needed.
 */
import type { ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startDaemon } from './daemon.js';
import { privateLoopback } from './world.js';

const run = promisify(execFile);

export interface AcmeLab {
  /** The ACME directory URL. */
  directory: string;
  /** PEM file of the CA that signed pebble's own API certificate (what an ACME client must trust to talk to it). */
  apiRoot: string;
  /** The PEM root that issued the certificates (what a browser of this lab trusts). */
  issuingRoot(): Promise<string>;
}

export async function startAcmeLab(t: ExecutionContext, dir: string, relay: { host: string; httpPort: number; httpsPort: number }): Promise<AcmeLab> {
  const ip = privateLoopback();
  const key = join(dir, 'pebble-api.key');
  const cert = join(dir, 'pebble-api.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', '/CN=pebble test api', '-addext', `subjectAltName=IP:${ip}`]);
  const config = join(dir, 'pebble.json');
  await writeFile(config, JSON.stringify({
    pebble: {
      listenAddress: `${ip}:14000`, managementListenAddress: `${ip}:15000`, certificate: cert, privateKey: key,
      httpPort: relay.httpPort, tlsPort: relay.httpsPort, ocspResponderURL: '', externalAccountBindingRequired: false,
    },
  }));
  const dns = startDaemon(t, 'pebble-challtestsrv', ['-management', `${ip}:8055`, '-dns01', `${ip}:8053`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-defaultIPv4', relay.host, '-defaultIPv6', '']);
  await dns.waitFor(/Starting management server/);
  // No nonce rejections, no authorization reuse, no random waits: every issuance validates, promptly.
  const pebble = startDaemon(t, 'pebble', ['-config', config, '-dnsserver', `${ip}:8053`], {
    env: { PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
  });
  await pebble.waitFor(/ACME directory available/);
  return {
    directory: `https://${ip}:14000/dir`,
    apiRoot: cert,
    issuingRoot: async () => {
      const { stdout } = await run('curl', ['-sS', '--fail', '--cacert', cert, `https://${ip}:15000/roots/0`]);
      const path = join(dir, 'issuing-root.pem');
      await writeFile(path, stdout);
      return path;
    },
  };
}

/** Caddy as a home web server that gets its own certificate from the lab's CA, with one challenge type only. */
export async function startHomeCaddy(
  t: ExecutionContext, dir: string, lab: AcmeLab, opts: { name: string; bind: string; httpPort: number; httpsPort: number; challenge: 'http-01' | 'tls-alpn-01' },
): Promise<{ obtained: Promise<string> }> {
  const caddyfile = join(dir, 'Caddyfile');
  const disable = opts.challenge === 'http-01' ? 'disable_tlsalpn_challenge' : 'disable_http_challenge';
  await writeFile(caddyfile, [
    '{',
    '  admin off', `  http_port ${opts.httpPort}`, `  https_port ${opts.httpsPort}`, `  default_bind ${opts.bind}`,
    `  storage file_system ${join(dir, 'caddy-data')}`, '  skip_install_trust', '  ocsp_stapling off',
    '}',
    `${opts.name} {`,
    '  tls {',
    `    issuer acme {`, `      dir ${lab.directory}`, `      trusted_roots ${lab.apiRoot}`, `      ${disable}`, '    }',
    '  }',
    '  respond "hello from home over {scheme}"',
    '}',
    '',
  ].join('\n'));
  const caddy = startDaemon(t, 'caddy', ['run', '--config', caddyfile, '--adapter', 'caddyfile'], {
    env: { HOME: dir, XDG_DATA_HOME: join(dir, 'xdg-data'), XDG_CONFIG_HOME: join(dir, 'xdg-config') },
  });
  return { obtained: caddy.waitFor(/certificate obtained successfully/, 90_000) };
}
