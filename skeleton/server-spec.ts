/**
 * `--server ID=HOST:PORT,secret-file=F[,description=TEXT][,protocol=P][,proxy-protocol=v1|v2]`: one server
 * a skeleton fronts.
 */
import { readSecretFile } from '../shared/cli/secret-file.js';
import { BurrowError } from '../shared/errors.js';
import { parseHostPort } from '../shared/peer/relay-address.js';
import { SERVER_ID_PATTERN } from '../shared/protocol/parse.js';
import type { SkeletonServer } from './io/skeleton-server.js';

const KEYS = ['secret-file', 'description', 'protocol', 'proxy-protocol'];

export async function parseServerSpec(text: string): Promise<SkeletonServer> {
  const fail = (why: string): never => {
    throw new BurrowError('ERR_USAGE', `--server ${JSON.stringify(text)}: ${why}`);
  };
  const [head = '', ...rest] = text.split(',');
  const eq = head.indexOf('=');
  if (eq < 0) fail('expected ID=HOST:PORT[,secret-file=F][,description=TEXT][,protocol=P]');
  const id = head.slice(0, eq);
  if (!SERVER_ID_PATTERN.test(id)) fail('the id must be 1-63 of a-z A-Z 0-9 . _ -, starting with a letter or digit');
  const { host, port } = parseHostPort(head.slice(eq + 1), `--server ${id}`);
  const fields = new Map<string, string>();
  for (const part of rest) {
    const i = part.indexOf('=');
    const key = i < 0 ? part : part.slice(0, i);
    if (!KEYS.includes(key)) fail(`unknown key ${JSON.stringify(key)} (allowed: ${KEYS.join(', ')})`);
    fields.set(key, part.slice(i + 1));
  }
  const secretFile = fields.get('secret-file') ?? fail('secret-file=F is required: every server has a pre-shared secret (burrow secret generate --out F)');
  const protocol = fields.get('protocol') ?? 'tcp';
  if (!/^[a-z0-9+.-]{1,32}$/i.test(protocol)) fail('protocol must be a short name such as http, ssh, smtp or tcp');
  const proxy = fields.get('proxy-protocol');
  if (proxy !== undefined && proxy !== 'v1' && proxy !== 'v2') fail('proxy-protocol must be v1 or v2');
  const server: SkeletonServer = { id, host, port, secret: await readSecretFile(secretFile), description: (fields.get('description') ?? '').slice(0, 200), protocol };
  if (proxy === 'v1' || proxy === 'v2') server.proxy = proxy;
  return server;
}
