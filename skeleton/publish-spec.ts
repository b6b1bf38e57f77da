/**
 * `--publish ID=URL[,allow=CIDR]...[,deny=CIDR]...[,max-conns=N][,rate=N][,forwarded]`: one way the
 * public reaches server ID through the relay. URL is `tcp://:PORT`, `udp://:PORT` (a udp server's), `http://HOST` or `https://HOST`
 * (HOST may start with `*.`); one id may be published several times. The rules are enforced by the
 * relay's front door: `allow`/`deny` CIDR lists (repeat the key for more), `max-conns` concurrent
 * connections, `rate` new connections per second from one source, `forwarded` (http only) to add
 * X-Forwarded-For and Forwarded headers for the home server.
 */
import { cidrProblem } from '../shared/protocol/cidr.js';
import type { Publication } from '../shared/protocol/messages.js';
import { MAX_CIDRS, SERVER_ID_PATTERN } from '../shared/protocol/parse.js';
import { parsePublicationUrl, publicationUrl } from '../shared/protocol/publication-url.js';

const KEYS = ['allow', 'deny', 'max-conns', 'rate', 'forwarded'];
export const PUBLISH_SHAPE = 'ID=tcp://:PORT|udp://:PORT|http://HOST|https://HOST[,allow=CIDR][,deny=CIDR][,max-conns=N][,rate=N][,forwarded]';

/** The publication, or what is wrong with the spec. */
export function parsePublishSpec(text: string): Publication | { problem: string } {
  const problem = (why: string) => ({ problem: why });
  const [head = '', ...rest] = text.split(',');
  const eq = head.indexOf('=');
  if (eq < 0) return problem(`expected ${PUBLISH_SHAPE}`);
  const server = head.slice(0, eq);
  if (!SERVER_ID_PATTERN.test(server)) return problem('the id must be 1-63 of a-z A-Z 0-9 . _ -, starting with a letter or digit');
  const target = parsePublicationUrl(head.slice(eq + 1));
  if (typeof target === 'string') return problem(`${server}: ${target}`);
  const pub: Publication = { server, url: publicationUrl(target) };
  for (const part of rest) {
    const i = part.indexOf('=');
    const key = i < 0 ? part : part.slice(0, i);
    const value = i < 0 ? undefined : part.slice(i + 1);
    if (!KEYS.includes(key)) return problem(`unknown key ${JSON.stringify(key)} (allowed: ${KEYS.join(', ')})`);
    if (key === 'forwarded') {
      if (value !== undefined) return problem('forwarded takes no value');
      if (target.kind !== 'http') return problem('forwarded is for http:// publications only (the relay does not read other traffic)');
      pub.forwarded = true;
    } else if (key === 'allow' || key === 'deny') {
      const bad = value === undefined ? 'needs a value' : cidrProblem(value);
      if (bad) return problem(`${key}: ${bad}`);
      const list = (pub[key] ??= []);
      if (list.length >= MAX_CIDRS) return problem(`${key}: at most ${MAX_CIDRS} entries`);
      list.push(value!);
    } else {
      const n = value !== undefined && /^\d{1,7}$/.test(value) ? Number(value) : NaN;
      if (!(n >= 1)) return problem(`${key} must be a whole number, 1 or more`);
      if (key === 'max-conns') pub.maxConns = n;
      else pub.rate = n;
    }
  }
  return pub;
}

/** For OptionSpec.check. */
export function publishSpecProblem(text: string): string | undefined {
  const parsed = parsePublishSpec(text);
  return 'problem' in parsed ? parsed.problem : undefined;
}
