/**
 * Publication urls, one spelling each: `tcp://:PORT`, `udp://:PORT`, `http://HOST`, `https://HOST`. HOST is a DNS
 * name in lower case, without a trailing dot or a port, and may start with `*.` (every name below it).
 * The skeleton's `--publish` and the relay's parser both go through here, so both sides agree on what
 * a publication is called (its key in the relay's registry, in logs, metrics and the admin API).
 */
import type { PublicationKind } from './messages.js';

export interface PublicationTarget {
  kind: PublicationKind;
  /** For tcp and udp. */
  port?: number;
  /** For http and https: lower case, maybe `*.` first. */
  host?: string;
}

/** A DNS host name: labels of a-z 0-9 and inner hyphens, 1-63 each, 253 in all. */
export const HOST_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Lower case, no trailing dot; undefined unless a valid host name or `*.` + one. */
export function canonicalHost(text: string): string | undefined {
  const host = text.toLowerCase().replace(/\.$/, '');
  const bare = host.startsWith('*.') ? host.slice(2) : host;
  return HOST_NAME.test(bare) ? host : undefined;
}

/** Parses a publication url; returns a reason (for an error message) when it is not one. */
export function parsePublicationUrl(text: string): PublicationTarget | string {
  const m = /^(tcp|udp|http|https):\/\/(.*)$/i.exec(text.trim());
  if (!m) return 'expected tcp://:PORT, udp://:PORT, http://HOST or https://HOST';
  const kind = m[1]!.toLowerCase() as PublicationKind;
  const rest = m[2]!;
  if (kind === 'tcp' || kind === 'udp') {
    const port = /^:(\d{1,5})$/.exec(rest);
    const n = port ? Number(port[1]) : NaN;
    if (!(n >= 1 && n <= 65535)) return `a ${kind} publication is ${kind}://:PORT with a port from 1 to 65535 (the relay binds its --public-host)`;
    return { kind, port: n };
  }
  const host = canonicalHost(rest.replace(/\/$/, ''));
  if (!host) return `${kind}://HOST needs a host name (letters, digits, hyphens and dots, optionally starting with *.), without a port or path`;
  return { kind, host };
}

export function publicationUrl(target: PublicationTarget): string {
  return target.kind === 'tcp' || target.kind === 'udp' ? `${target.kind}://:${target.port}` : `${target.kind}://${target.host}`;
}
