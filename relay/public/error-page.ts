/**
 * The small pages the public HTTP front answers with itself. They name nothing internal: no server id,
 * no publication, no address, no error text or stack; only the status and a fixed sentence.
 */
import { STATUS_CODES } from 'node:http';

export type FrontStatus = 400 | 403 | 404 | 408 | 431 | 502 | 503;

const SENTENCES: Record<FrontStatus, string> = {
  400: 'The request could not be understood.',
  403: 'This site does not accept connections from your address.',
  404: 'No site is published under this name here.',
  408: 'The request took too long to arrive.',
  431: 'The request header is too large.',
  502: 'The site is not reachable right now. Try again later.',
  503: 'The site is busy or restarting. Try again in a moment.',
};

/**
 * The page for a failed way to the home server: the front door's refusals (the publication's deny or
 * allow list: 403; one of its caps or rates: 503), else 502.
 */
export function statusForUpstreamError(err: unknown): FrontStatus {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ERR_PUBLISH_NOT_ALLOWED' ? 403 : code === 'ERR_LIMIT' ? 503 : 502;
}

/** The HTML body of the page for `status`. */
function errorPageBody(status: FrontStatus): string {
  const title = `${status} ${STATUS_CODES[status] ?? ''}`.trim();
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>\n<body><h1>${title}</h1><p>${SENTENCES[status]}</p></body></html>\n`;
}

function pageHeaders(body: string, close: boolean): Record<string, string | number> {
  return {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    ...(close ? { Connection: 'close' } : {}),
  };
}

/** The page as raw bytes; `close` ends the connection after it, `headOnly` answers a HEAD request, `retryAfter` (seconds) says when to try again. */
export function rawErrorResponse(status: FrontStatus, close = true, headOnly = false, retryAfter?: number): string {
  const body = errorPageBody(status);
  const headers = { ...pageHeaders(body, close), ...(close ? {} : { Connection: 'keep-alive' }), ...(retryAfter !== undefined ? { 'Retry-After': retryAfter } : {}) };
  const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${head}\r\n${headOnly ? '' : body}`;
}
