/** Responses of the admin HTTP: JSON or a page, with headers that keep browsers and caches careful. */
import type { ServerResponse } from 'node:http';
import { ERROR_CODES, type ErrorCode } from '../../shared/errors.js';

export interface AdminResponse {
  status: number;
  body: string | Buffer;
  contentType: string;
  headers?: Record<string, string>;
}

/** For everything but the dashboard page: nothing may run, load or frame. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

export function json(value: unknown, status = 200): AdminResponse {
  return { status, body: JSON.stringify(value) + '\n', contentType: 'application/json; charset=utf-8' };
}

/** An error as JSON: `{ "error": { "code", "message" } }` with the registry's text, nothing internal. */
export function jsonError(status: number, code: ErrorCode, headers?: Record<string, string>): AdminResponse {
  return { ...json({ error: { code, message: ERROR_CODES[code].text } }, status), ...(headers ? { headers } : {}) };
}

export function send(res: ServerResponse, r: AdminResponse, head: boolean): void {
  res.writeHead(r.status, {
    'Content-Type': r.contentType,
    'Content-Length': Buffer.byteLength(r.body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy': API_CSP,
    ...r.headers,
  });
  res.end(head ? undefined : r.body);
}
