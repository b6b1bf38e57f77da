/**
 * A real nginx in front of the relay's WebSocket endpoint, configured by the sample the docs give
 * (docs/examples/nginx-burrow.conf), changed only where a test must: its port, the relay's port, the
 * certificate files (a throwaway CA made with openssl for each test), and for the benchmark no TLS.
 */
import type { ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findProgram, randomPort, startDaemon, type Daemon } from './port-daemon.js';
import { nginxConf } from './nginx.js';

export const SAMPLE = fileURLToPath(new URL('../../../docs/examples/nginx-burrow.conf', import.meta.url));
export const SAMPLE_PATH = '/any/path';
export const SAMPLE_NAME = 'relay.example.net';

export interface TestCa {
  /** PEM of the CA that signed the server certificate: what a peer must trust. */
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** A throwaway CA and a certificate from it for `name` and 127.0.0.1. */
export async function makeCa(dir: string, name = SAMPLE_NAME): Promise<TestCa> {
  const run = promisify(execFile);
  const openssl = findProgram('openssl', 'openssl');
  const at = (f: string): string => join(dir, f);
  await run(openssl, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=burrow test CA', '-keyout', at('ca.key'), '-out', at('ca.pem')]);
  await run(openssl, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`, '-keyout', at('server.key'), '-out', at('server.csr')]);
  await writeFile(at('server.ext'), `subjectAltName=DNS:${name},IP:127.0.0.1\n`);
  await run(openssl, ['x509', '-req', '-in', at('server.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', at('server.ext'), '-out', at('server.pem')]);
  return { caFile: at('ca.pem'), certFile: at('server.pem'), keyFile: at('server.key') };
}

export interface TestNginx {
  port: number;
  daemon: Daemon<{ port: number }>;
}

/** The sample config for this test: TLS with `ca`'s certificate, or plain (`ca` undefined, for the bench). */
export function adaptSample(sample: string, opts: { port: number; relayPort: number; ca?: TestCa }): string {
  let conf = sample
    .replace('127.0.0.1:8080', `127.0.0.1:${opts.relayPort}`)
    .replace(/ssl_certificate\s+\S+;/, opts.ca ? `ssl_certificate ${opts.ca.certFile};` : '')
    .replace(/ssl_certificate_key\s+\S+;/, opts.ca ? `ssl_certificate_key ${opts.ca.keyFile};` : '')
    .replace('listen 443 ssl;', opts.ca ? `listen 127.0.0.1:${opts.port} ssl;` : `listen 127.0.0.1:${opts.port};`);
  if (!opts.ca) conf = conf.replace(/ssl_protocols[^;]*;/, '');
  return conf;
}

export async function startSampleNginx(t: ExecutionContext, dir: string, opts: { relayPort: number; ca?: TestCa }): Promise<TestNginx> {
  const binary = findProgram('nginx', 'nginx');
  const sample = await readFile(SAMPLE, 'utf8');
  const daemon = await startDaemon(t, {
    name: 'nginx',
    prepare: async () => {
      const port = randomPort();
      const root = join(dir, `nginx-${port}`);
      await mkdir(root, { recursive: true });
      await writeFile(join(root, 'burrow.conf'), adaptSample(sample, { port, relayPort: opts.relayPort, ...(opts.ca ? { ca: opts.ca } : {}) }));
      await writeFile(join(root, 'nginx.conf'), nginxConf(root, `include ${join(root, 'burrow.conf')};`));
      return { argv: [binary, '-p', root, '-c', join(root, 'nginx.conf')], info: { port } };
    },
    ready: /start worker process /,
    taken: /bind\(\) to .* failed \(98/,
  });
  return { port: daemon.info.port, daemon };
}
