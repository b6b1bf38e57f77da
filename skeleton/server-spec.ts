/**
 * `--server ID=HOST:PORT[,secret-file=F][,description=TEXT][,protocol=P][,proxy-protocol=v1|v2][,transport=udp]`:
 * one server a skeleton fronts. `transport=udp` makes it a datagram server: it is advertised with protocol
 * `udp`, so a client forwarder for it listens on UDP (docs/PROTOCOL.md, "Datagram streams"); it takes
 * `proxy-protocol=v2` only (a header on each flow's first datagram). The secret is what burrow clients must know; a server reached only through its
 * publications (`--publish`) has none. `serverSpecProblem` checks the text alone (config load time, --print-config);
 * `parseServerSpec` also reads the secret file.
 */
import { readSecretFile } from '../shared/cli/secret-file.js';
import { pathInDir } from '../shared/config/option-spec.js';
import { BurrowError } from '../shared/errors.js';
import { parseHostPort } from '../shared/peer/relay-address.js';
import { SERVER_ID_PATTERN } from '../shared/protocol/parse.js';
import { serverInfoProblem, type SkeletonServer } from './io/skeleton-server.js';

const SECRET_FILE_KEY = 'secret-file=';
const KEYS = ['secret-file', 'description', 'protocol', 'proxy-protocol', 'transport'];
const SHAPE = 'expected ID=HOST:PORT[,secret-file=F][,description=TEXT][,protocol=P][,proxy-protocol=v1|v2][,transport=udp]';

export interface ServerFields {
  id: string;
  host: string;
  port: number;
  /** Absent for a server reached only through its publications (--publish). */
  secretFile?: string;
  description: string;
  protocol: string;
  proxy?: 'v1' | 'v2';
  /** Absent for tcp. */
  transport?: 'udp';
}

/** The fields of a spec, or what is wrong with it (and what is allowed). Reads no file. */
export function parseServerFields(text: string): ServerFields | { problem: string } {
  const problem = (why: string) => ({ problem: why });
  const [head = '', ...rest] = text.split(',');
  const eq = head.indexOf('=');
  if (eq < 0) return problem(SHAPE);
  const id = head.slice(0, eq);
  if (!SERVER_ID_PATTERN.test(id)) return problem('the id must be 1-63 of a-z A-Z 0-9 . _ -, starting with a letter or digit');
  let address: { host: string; port: number };
  try {
    address = parseHostPort(head.slice(eq + 1), `server ${id}`);
  } catch {
    return problem(`server ${id}: expected HOST:PORT after the = (IPv6 as [ADDR]:PORT)`);
  }
  const fields = new Map<string, string>();
  for (const part of rest) {
    const i = part.indexOf('=');
    const key = i < 0 ? part : part.slice(0, i);
    if (!KEYS.includes(key)) return problem(`unknown key ${JSON.stringify(key)} (allowed: ${KEYS.join(', ')})`);
    fields.set(key, part.slice(i + 1));
  }
  const secretFile = fields.get('secret-file');
  if (secretFile === '') return problem('secret-file= needs a file name (burrow secret generate --out F)');
  const transport = fields.get('transport') ?? 'tcp';
  if (transport !== 'tcp' && transport !== 'udp') return problem('transport must be tcp or udp');
  const udp = transport === 'udp';
  // The listing's protocol is how a client learns a server is a datagram server: it must say udp exactly then.
  const given = fields.get('protocol');
  if (udp && given !== undefined && given !== 'udp') return problem(`server ${id}: transport=udp is advertised as protocol udp; drop protocol=${given}`);
  if (!udp && given === 'udp') return problem(`server ${id}: protocol=udp needs transport=udp (the skeleton would dial it over TCP)`);
  const protocol = given ?? (udp ? 'udp' : 'tcp');
  const proxy = fields.get('proxy-protocol');
  if (proxy !== undefined && proxy !== 'v1' && proxy !== 'v2') return problem('proxy-protocol must be v1 or v2');
  if (udp && proxy === 'v1') return problem(`server ${id}: PROXY protocol v1 has no UDP; use proxy-protocol=v2 (a header on the first datagram of each flow)`);
  // Longer descriptions are cut (never inside a surrogate pair); anything else the relay would refuse is an error here.
  const description = (fields.get('description') ?? '').slice(0, 200).replace(/[\uD800-\uDBFF]$/, '');
  const infoProblem = serverInfoProblem({ id, description, protocol });
  if (infoProblem) return problem(`server ${id}: ${infoProblem}`);
  const server: ServerFields = { id, ...address, description, protocol, ...(secretFile !== undefined ? { secretFile } : {}) };
  if (proxy === 'v1' || proxy === 'v2') server.proxy = proxy;
  if (udp) server.transport = 'udp';
  return server;
}

/** For OptionSpec.path: the spec as written in a config file in `dir`, its secret-file relative to `dir`. */
export function serverSpecInDir(text: string, dir: string): string {
  return text.split(',').map((part, i) => (i > 0 && part.startsWith(SECRET_FILE_KEY) ? SECRET_FILE_KEY + pathInDir(part.slice(SECRET_FILE_KEY.length), dir) : part)).join(',');
}

/** For OptionSpec.check: undefined when the spec is well-formed. */
export function serverSpecProblem(text: string): string | undefined {
  const parsed = parseServerFields(text);
  return 'problem' in parsed ? parsed.problem : undefined;
}

export async function parseServerSpec(text: string): Promise<SkeletonServer> {
  const parsed = parseServerFields(text);
  if ('problem' in parsed) throw new BurrowError('ERR_USAGE', `--server ${JSON.stringify(text)}: ${parsed.problem}`);
  const { secretFile, proxy, ...rest } = parsed;
  const server: SkeletonServer = { ...rest, ...(secretFile !== undefined ? { secret: await readSecretFile(secretFile) } : {}) };
  if (proxy) server.proxy = proxy;
  return server;
}
