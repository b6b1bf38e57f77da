/** A throwaway self-signed certificate for some host names, made by openssl (a home server's own certificate). */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function selfSigned(dir: string, names: string[]): Promise<{ key: Buffer; cert: Buffer; certFile: string; keyFile: string }> {
  const keyFile = join(dir, `${names[0]}.key`);
  const certFile = join(dir, `${names[0]}.pem`);
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${names[0]}`,
    '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`, '-keyout', keyFile, '-out', certFile]);
  return { key: await readFile(keyFile), cert: await readFile(certFile), keyFile, certFile };
}
