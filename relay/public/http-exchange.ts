/**
 * One request of a public HTTP connection and what its answer needs: where it goes (the front's
 * decision), its head as it goes up, and how its answer is framed for this client. The session
 * (http-session.ts) moves exchanges along; what is written about each one is decided here.
 */
import type { FrontStatus } from './error-page.js';
import { withForwardedHeaders } from './forwarded-headers.js';
import type { HttpRoute } from './http-front-deps.js';
import { announcesBody, hasHeader, stripHopHeaders, transferCodings, upstreamRequestHeaders } from './hop-headers.js';
import type { Http1Head } from './http1-parser.js';
import { requestHead, responseHead } from './http1-wire.js';
import type { Upstream } from './http-upstream.js';

/** What the front makes of a request head: a publication to forward to, or an answer of its own. */
export type Decision =
  | { kind: 'forward'; route: HttpRoute; path: string; sentHost: string }
  | { kind: 'answer'; status: FrontStatus; close: boolean; retryAfter?: number };

/** Methods whose request may go again after a keep-alive race (http-session.ts): nothing they do can happen twice. */
const RETRYABLE = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface Exchange {
  method: string;
  decision: Decision;
  upgrade: boolean;
  http10: boolean;
  /** The public connection ends after this answer. */
  closeAfter: boolean;
  chunkedIn: boolean;
  /** Its head went up (on `upstream`). */
  upstream: Upstream<Exchange> | undefined;
  answer: 'none' | 'informational' | 'head' | 'switched';
  chunkedOut: boolean;
  /** May go again on a fresh stream if a reused one dies before answering. */
  retry: 'never' | 'once' | 'done';
  /** 1xx answers relayed for it so far. */
  informational: number;
  /** Its head as it goes up (forwarded requests). */
  upHead: string;
  /** Trailers of its chunked body, for the home server. */
  requestTrailers: string[];
  /** Trailers of its answer's chunked body, for the client. */
  answerTrailers: string[];
}

/** The exchange for a parsed request head; `last`: the connection takes no request after it. */
export function newExchange(head: Http1Head, decision: Decision, clientAddress: string, last: boolean): Exchange {
  return {
    method: head.method,
    decision,
    upgrade: head.upgrade && decision.kind === 'forward',
    http10: head.versionMajor === 1 && head.versionMinor === 0,
    closeAfter: !head.keepAlive || (decision.kind === 'answer' && decision.close) || last,
    chunkedIn: hasHeader(head.rawHeaders, 'transfer-encoding'),
    upstream: undefined,
    answer: 'none',
    chunkedOut: false,
    retry: RETRYABLE.has(head.method) && !head.upgrade && !announcesBody(head.rawHeaders) ? 'once' : 'never',
    informational: 0,
    upHead: decision.kind === 'forward' ? upstreamHead(head, decision, clientAddress) : '',
    requestTrailers: [],
    answerTrailers: [],
  };
}

/** The front's own answer to a head the parser refused (400, 431): the connection ends after it. */
export function refusedExchange(status: FrontStatus): Exchange {
  return {
    method: 'GET', decision: { kind: 'answer', status, close: true }, upgrade: false, http10: false,
    closeAfter: true, chunkedIn: false, upstream: undefined, answer: 'none', chunkedOut: false, retry: 'never', informational: 0,
    upHead: '', requestTrailers: [], answerTrailers: [],
  };
}

function upstreamHead(head: Http1Head, decision: Extract<Decision, { kind: 'forward' }>, clientAddress: string): string {
  // An upgrade keeps its Connection/Upgrade headers (the home server must see them); anything else
  // loses every hop-by-hop header and gets its framing written anew.
  let raw = head.upgrade ? [...head.rawHeaders] : upstreamRequestHeaders(head.rawHeaders);
  if (decision.route.forwarded) raw = withForwardedHeaders(raw, { clientAddress, proto: 'http', host: decision.sentHost });
  return requestHead(head.method, decision.path, raw);
}

/**
 * The head the client gets for `x`'s final answer (not a 1xx, not a 101), and whether that answer has a
 * body to parse. Sets how the body is framed for this client and whether the connection ends after it.
 */
export function answerHead(x: Exchange, head: Http1Head, draining: boolean): { bytes: string; bodyless: boolean } {
  // A refused upgrade: its answer, then the connection ends (the client's bytes after its head are dropped).
  if (x.upgrade) x.closeAfter = true;
  x.answer = 'head';
  const raw = stripHopHeaders(head.rawHeaders);
  // 204 and 304 never have a body (RFC 9110 6.4.1), whatever their framing headers say.
  const bodyless = x.method === 'HEAD' || head.status === 204 || head.status === 304;
  if (!bodyless && !hasHeader(raw, 'content-length')) {
    // Length unknown (chunked, or until the home server closes): an HTTP/1.1 client gets it chunked,
    // an HTTP/1.0 one gets it until the close.
    if (x.http10) x.closeAfter = true;
    else {
      // Codings other than chunked (gzip) describe the body and stay with it; chunked is ours.
      x.chunkedOut = true;
      raw.push('Transfer-Encoding', [...transferCodings(head.rawHeaders), 'chunked'].join(', '));
    }
  }
  if (draining) x.closeAfter = true;
  raw.push('Connection', x.closeAfter ? 'close' : 'keep-alive');
  return { bytes: responseHead(head.status, head.statusMessage, raw), bodyless };
}
