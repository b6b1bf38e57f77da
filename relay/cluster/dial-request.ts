/** A dial request one relay publishes to another over Redis pub/sub: no secret, only ids and an address. */
export interface DialRequest {
  dial: string;
  server: string;
  /** The skeleton session at the receiving relay that should dial. */
  sid: string;
  /** HOST:PORT of the asking relay's skeleton port. */
  origin: string;
}

const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
const SERVER = /^[a-z0-9][a-z0-9._-]{0,62}$/i;
const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

function jsonObject(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

/** Checks every field: Redis is shared infrastructure, its messages are input like any other. */
export function parseDialRequest(text: string): DialRequest | undefined {
  const value = jsonObject(text);
  if (!value) return undefined;
  const { dial, server, sid, origin } = value;
  if (typeof dial !== 'string' || !TOKEN.test(dial) || typeof sid !== 'string' || !TOKEN.test(sid)) return undefined;
  if (typeof server !== 'string' || !SERVER.test(server) || typeof origin !== 'string' || origin.length > 300 || !HOST_PORT.test(origin)) return undefined;
  return { dial, server, sid, origin };
}

/** A failed login another relay saw, shared so that penalties (S6) hold across the cluster. */
export interface PenaltyNotice {
  from: string;
  source: string;
  user?: string;
}

const SOURCE = /^[0-9A-Fa-f:./]{1,64}$/;

export function parsePenaltyNotice(text: string): PenaltyNotice | undefined {
  const value = jsonObject(text);
  if (!value) return undefined;
  const { from, source, user } = value;
  if (typeof from !== 'string' || from.length > 64 || typeof source !== 'string' || !SOURCE.test(source)) return undefined;
  if (user !== undefined && (typeof user !== 'string' || user.length > 64)) return undefined;
  return { from, source, ...(typeof user === 'string' ? { user } : {}) };
}

/** A session that was given tickets ended at relay `from`. */
export function parseSessionEnded(text: string): { from: string; sid: string } | undefined {
  const value = jsonObject(text);
  if (!value) return undefined;
  const { from, sid } = value;
  if (typeof from !== 'string' || from.length > 64 || typeof sid !== 'string' || !TOKEN.test(sid)) return undefined;
  return { from, sid };
}
