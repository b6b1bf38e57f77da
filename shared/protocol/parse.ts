/**
 * unknown -> typed message, every field checked. Anything that does not fit is ERR_MALFORMED_FRAME,
 * which closes the connection that sent it.
 */
import type {
  AdvertisedServer, ClientEndpoints, Publication,
  Advertise, Advertised, Attach, Bind, Dial, ErrorMessage, Goodbye, Hello, Joined, ListServers, Login,
  PeerControlMessage, PeerHandshakeMessage, Ping, Pong, RelayControlMessage, RelayHandshakeMessage, ServerInfo, Servers, Ticket, TicketRequest, Welcome, Withdrawn,
} from './messages.js';
import { asFields, bytes, errorCode, list, malformed, oneOf, onlyKeys, optStr, optUint, str, uint, type Fields } from './fields.js';
import { parsePublicationUrl, publicationUrl } from './publication-url.js';

/** Server ids: what `--server ID=...` and the users file patterns speak of. */
export const SERVER_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/i;
const IP_ADDRESS = /^[0-9a-fA-F:.]{2,45}$/;
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
/** A compact JWS (a session ticket): header.payload.signature. */
const JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;
export const MAX_TICKET_LENGTH = 2048;
const JWE = /^[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;
export const MAX_SERVERS_PER_MESSAGE = 256;
/**
 * Text a peer chooses that people will see (a server description): no control characters (C0, DEL, C1),
 * no line or paragraph separators, no format characters (bidi overrides and marks, zero-width spaces, BOM,
 * tags; the zero-width joiner and non-joiner that emoji and some scripts need stay), and no run of more
 * than 8 combining marks, so nothing can move a cursor, forge a row, hide text or reorder what a
 * terminal, log or page shows.
 */
// The v flag (class subtraction) is in Node 20; built at run time because TypeScript wants target es2024 for the literal.
export const DISPLAY_TEXT = new RegExp('^(?!.*\\p{M}{9})[^\\p{Cc}\\u2028\\u2029[\\p{Cf}--[\\u200C\\u200D]]]*$', 'v');
/** A protocol hint (http, ssh, smtp, tcp, ...). */
export const PROTOCOL_NAME = /^[a-z0-9+._-]{1,32}$/i;

function typeOf(fields: Fields): string {
  return typeof fields.t === 'string' ? fields.t : '';
}

function serverInfo(value: unknown): ServerInfo {
  const f = asFields(value);
  onlyKeys(f, ['id', 'description', 'protocol']);
  return { id: str(f, 'id', 63, SERVER_ID_PATTERN), description: str(f, 'description', 200, DISPLAY_TEXT), protocol: str(f, 'protocol', 32, PROTOCOL_NAME) };
}

function advertisedServer(value: unknown): AdvertisedServer {
  const f = asFields(value);
  onlyKeys(f, ['id', 'description', 'protocol', 'proxy', 'publicOnly']);
  const info: AdvertisedServer = {
    id: str(f, 'id', 63, SERVER_ID_PATTERN), description: str(f, 'description', 200, DISPLAY_TEXT), protocol: str(f, 'protocol', 32, PROTOCOL_NAME),
  };
  if (f.proxy !== undefined) info.proxy = oneOf(f, 'proxy', ['v1', 'v2'] as const);
  if (f.publicOnly !== undefined) info.publicOnly = flag(f, 'publicOnly');
  return info;
}

function flag(f: Fields, key: string): true {
  if (f[key] !== true) throw malformed(`${key} is true or absent`);
  return true;
}

/** Longest publication url: a 253-character host name and its scheme. */
const MAX_URL = 262;
/** CIDR entries in one allow or deny list. */
export const MAX_CIDRS = 64;
const CIDR = /^[0-9a-fA-F:.]{2,45}(?:\/\d{1,3})?$/;

function publication(value: unknown): Publication {
  const f = asFields(value);
  onlyKeys(f, ['server', 'url', 'allow', 'deny', 'maxConns', 'rate', 'forwarded']);
  const target = parsePublicationUrl(str(f, 'url', MAX_URL));
  if (typeof target === 'string') throw malformed(`publication url: ${target}`);
  const url = publicationUrl(target);
  if (url !== f.url) throw malformed('publication url is not in its canonical form');
  const pub: Publication = { server: str(f, 'server', 63, SERVER_ID_PATTERN), url };
  const cidr = (v: unknown) => str({ v }, 'v', 49, CIDR);
  if (f.allow !== undefined) pub.allow = list(f, 'allow', MAX_CIDRS, cidr);
  if (f.deny !== undefined) pub.deny = list(f, 'deny', MAX_CIDRS, cidr);
  const maxConns = optUint(f, 'maxConns', 1_000_000);
  if (maxConns !== undefined) pub.maxConns = maxConns;
  const rate = optUint(f, 'rate', 100_000);
  if (rate !== undefined) pub.rate = rate;
  if (f.forwarded !== undefined) pub.forwarded = flag(f, 'forwarded');
  return pub;
}

function urlItem(value: unknown): string {
  return str({ v: value }, 'v', MAX_URL);
}

export function parseEndpoints(value: unknown): ClientEndpoints {
  const f = asFields(value);
  onlyKeys(f, ['src', 'srcPort', 'dst', 'dstPort']);
  return { src: str(f, 'src', 64, IP_ADDRESS), srcPort: uint(f, 'srcPort', 65535), dst: str(f, 'dst', 64, IP_ADDRESS), dstPort: uint(f, 'dstPort', 65535) };
}

function errorMessage(f: Fields): ErrorMessage {
  onlyKeys(f, ['t', 'id', 'code']);
  const id = optUint(f, 'id');
  return id === undefined ? { t: 'error', code: errorCode(f, 'code') } : { t: 'error', id, code: errorCode(f, 'code') };
}

function ping(f: Fields): Ping | Pong {
  onlyKeys(f, ['t', 'n']);
  return { t: f.t === 'ping' ? 'ping' : 'pong', n: uint(f, 'n') };
}

export function parseRelayHandshake(value: unknown): RelayHandshakeMessage {
  const f = asFields(value);
  switch (typeOf(f)) {
    case 'hello': {
      onlyKeys(f, ['t', 'v', 'port', 'challenge', 'key', 'eph', 'exp', 'sig']);
      const hello: Hello = {
        t: 'hello', v: uint(f, 'v', 0xffff), port: oneOf(f, 'port', ['client', 'skeleton'] as const),
        challenge: bytes(f, 'challenge', 32), key: bytes(f, 'key', 32), eph: bytes(f, 'eph', 32), exp: uint(f, 'exp'), sig: bytes(f, 'sig', 64),
      };
      return hello;
    }
    case 'welcome': {
      onlyKeys(f, ['t', 'jwe']);
      const welcome: Welcome = { t: 'welcome', jwe: str(f, 'jwe', 4096, JWE) };
      return welcome;
    }
    case 'joined': {
      onlyKeys(f, ['t']);
      const joined: Joined = { t: 'joined' };
      return joined;
    }
    case 'bind': {
      onlyKeys(f, ['t', 'server', 'proxy', 'public']);
      const bind: Bind = { t: 'bind', server: str(f, 'server', 63, SERVER_ID_PATTERN) };
      if (f.proxy !== undefined) bind.proxy = parseEndpoints(f.proxy);
      if (f.public !== undefined) bind.public = flag(f, 'public');
      return bind;
    }
    case 'error':
      return errorMessage(f);
    default:
      throw malformed('unknown relay handshake message');
  }
}

export function parsePeerHandshake(value: unknown): PeerHandshakeMessage {
  const f = asFields(value);
  switch (typeOf(f)) {
    case 'login': {
      onlyKeys(f, ['t', 'jwe']);
      const login: Login = { t: 'login', jwe: str(f, 'jwe', 4096, JWE) };
      return login;
    }
    case 'attach': {
      onlyKeys(f, ['t', 'sid', 'purpose', 'server', 'dial', 'ticket', 'mac']);
      const purpose = oneOf(f, 'purpose', ['stream', 'pool', 'dial'] as const);
      const attach: Attach = { t: 'attach', sid: str(f, 'sid', 64, TOKEN), purpose, mac: bytes(f, 'mac', 32) };
      const server = optStr(f, 'server', 63, SERVER_ID_PATTERN);
      const dial = optStr(f, 'dial', 64, TOKEN);
      if ((purpose === 'stream') !== (server !== undefined)) throw malformed('attach: server goes with purpose stream only');
      if ((purpose === 'dial') !== (dial !== undefined)) throw malformed('attach: dial goes with purpose dial only');
      if (server !== undefined) attach.server = server;
      if (dial !== undefined) attach.dial = dial;
      const ticket = optStr(f, 'ticket', MAX_TICKET_LENGTH, JWS);
      if (ticket !== undefined) attach.ticket = ticket;
      return attach;
    }
    default:
      throw malformed('unknown peer handshake message');
  }
}

export function parsePeerControl(value: unknown): PeerControlMessage {
  const f = asFields(value);
  switch (typeOf(f)) {
    case 'advertise': {
      onlyKeys(f, ['t', 'id', 'servers', 'instance', 'yield', 'publish']);
      const advertise: Advertise = { t: 'advertise', id: uint(f, 'id'), servers: list(f, 'servers', MAX_SERVERS_PER_MESSAGE, advertisedServer) };
      const instance = optStr(f, 'instance', 64, TOKEN);
      if (instance !== undefined) advertise.instance = instance;
      if (f.yield !== undefined) {
        if (f.yield !== true) throw malformed('advertise: yield is true or absent');
        advertise.yield = true;
      }
      if (f.publish !== undefined) advertise.publish = list(f, 'publish', MAX_SERVERS_PER_MESSAGE, publication);
      return advertise;
    }
    case 'list': {
      onlyKeys(f, ['t', 'id', 'after']);
      const listServers: ListServers = { t: 'list', id: uint(f, 'id') };
      const after = optStr(f, 'after', 63, SERVER_ID_PATTERN);
      if (after !== undefined) listServers.after = after;
      return listServers;
    }
    case 'ticket-request': {
      onlyKeys(f, ['t', 'id']);
      const request: TicketRequest = { t: 'ticket-request', id: uint(f, 'id') };
      return request;
    }
    case 'ping':
    case 'pong':
      return ping(f);
    default:
      throw malformed('unknown peer control message');
  }
}

export function parseRelayControl(value: unknown): RelayControlMessage {
  const f = asFields(value);
  switch (typeOf(f)) {
    case 'advertised': {
      onlyKeys(f, ['t', 'id', 'accepted', 'rejected', 'published', 'unpublished']);
      const rejected = (v: unknown) => {
        const r = asFields(v);
        onlyKeys(r, ['id', 'code']);
        return { id: str(r, 'id', 63, SERVER_ID_PATTERN), code: errorCode(r, 'code') };
      };
      const accepted = (v: unknown) => str({ v }, 'v', 63, SERVER_ID_PATTERN);
      const advertised: Advertised = {
        t: 'advertised', id: uint(f, 'id'),
        accepted: list(f, 'accepted', MAX_SERVERS_PER_MESSAGE, accepted), rejected: list(f, 'rejected', MAX_SERVERS_PER_MESSAGE, rejected),
      };
      if (f.published !== undefined) advertised.published = list(f, 'published', MAX_SERVERS_PER_MESSAGE, urlItem);
      if (f.unpublished !== undefined) {
        advertised.unpublished = list(f, 'unpublished', MAX_SERVERS_PER_MESSAGE, (v) => {
          const r = asFields(v);
          onlyKeys(r, ['url', 'code']);
          return { url: str(r, 'url', MAX_URL), code: errorCode(r, 'code') };
        });
      }
      return advertised;
    }
    case 'servers': {
      onlyKeys(f, ['t', 'id', 'servers', 'next']);
      const servers: Servers = { t: 'servers', id: uint(f, 'id'), servers: list(f, 'servers', MAX_SERVERS_PER_MESSAGE, serverInfo) };
      const next = optStr(f, 'next', 63, SERVER_ID_PATTERN);
      if (next !== undefined) servers.next = next;
      return servers;
    }
    case 'ticket': {
      onlyKeys(f, ['t', 'id', 'ticket', 'exp']);
      const ticket: Ticket = { t: 'ticket', id: uint(f, 'id'), ticket: str(f, 'ticket', MAX_TICKET_LENGTH, JWS), exp: uint(f, 'exp') };
      return ticket;
    }
    case 'dial': {
      onlyKeys(f, ['t', 'dial', 'server', 'relay', 'ticket']);
      const dial: Dial = { t: 'dial', dial: str(f, 'dial', 64, TOKEN), server: str(f, 'server', 63, SERVER_ID_PATTERN) };
      const relay = optStr(f, 'relay', 300, HOST_PORT);
      const ticket = optStr(f, 'ticket', MAX_TICKET_LENGTH, JWS);
      if ((relay === undefined) !== (ticket === undefined)) throw malformed('dial: relay and ticket go together');
      if (relay !== undefined && ticket !== undefined) Object.assign(dial, { relay, ticket });
      return dial;
    }
    case 'withdrawn': {
      onlyKeys(f, ['t', 'servers', 'code', 'publications']);
      const id = (v: unknown) => str({ v }, 'v', 63, SERVER_ID_PATTERN);
      const withdrawn: Withdrawn = { t: 'withdrawn', servers: list(f, 'servers', MAX_SERVERS_PER_MESSAGE, id), code: errorCode(f, 'code') };
      if (f.publications !== undefined) withdrawn.publications = list(f, 'publications', MAX_SERVERS_PER_MESSAGE, urlItem);
      return withdrawn;
    }
    case 'goodbye': {
      onlyKeys(f, ['t', 'retryAfter']);
      const goodbye: Goodbye = { t: 'goodbye', retryAfter: uint(f, 'retryAfter', 3600) };
      return goodbye;
    }
    case 'error':
      return errorMessage(f);
    case 'ping':
    case 'pong':
      return ping(f);
    default:
      throw malformed('unknown relay control message');
  }
}
