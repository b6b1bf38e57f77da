/** Talking to a test relay's admin HTTP: requests with or without a token, and metric values from /metrics. */
import type { World } from './world.js';

export interface AdminReply {
  status: number;
  headers: Headers;
  text: string;
  json: () => unknown;
}

export async function adminRequest(world: World, path: string, opts: { token?: string; method?: 'GET' | 'POST'; headers?: Record<string, string> } = {}): Promise<AdminReply> {
  const base = world.relay.admin?.url;
  if (!base) throw new Error('this relay has no admin HTTP');
  const res = await fetch(new URL(path.replace(/^\//, ''), base), {
    method: opts.method ?? 'GET',
    headers: { ...(opts.token !== undefined ? { Authorization: `Bearer ${opts.token}` } : {}), ...opts.headers },
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as unknown };
}

/** The value of one sample in Prometheus text, e.g. metric(text, 'burrow_login_failures_total', { reason: 'bad_password' }). */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels);
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (want.every(([k, v]) => have.get(k) === v)) sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}
