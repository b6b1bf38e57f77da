/** Field readers for message validation: each returns the typed value or throws ERR_MALFORMED_FRAME. */
import { BurrowError, isErrorCode, type ErrorCode } from '../errors.js';

export type Fields = Record<string, unknown>;

export function malformed(detail: string): BurrowError {
  return new BurrowError('ERR_MALFORMED_FRAME', detail);
}

export function asFields(value: unknown): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Buffer.isBuffer(value)) {
    throw malformed('message is not a map');
  }
  return value as Fields;
}

/** Rejects any key not in the allowed list, so nothing unexpected rides along. */
export function onlyKeys(fields: Fields, allowed: readonly string[]): void {
  for (const key of Object.keys(fields)) {
    if (!allowed.includes(key)) throw malformed(`unexpected field ${JSON.stringify(key.slice(0, 32))}`);
  }
}

export function str(fields: Fields, key: string, max: number, pattern?: RegExp): string {
  const value = fields[key];
  if (typeof value !== 'string' || value.length > max || (pattern && !pattern.test(value))) {
    throw malformed(`field ${key} must be a string${pattern ? ' of the right form' : ''} of at most ${max} characters`);
  }
  return value;
}

export function optStr(fields: Fields, key: string, max: number, pattern?: RegExp): string | undefined {
  return fields[key] === undefined ? undefined : str(fields, key, max, pattern);
}

export function uint(fields: Fields, key: string, max = Number.MAX_SAFE_INTEGER): number {
  const value = fields[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw malformed(`field ${key} must be an integer in 0..${max}`);
  }
  return value;
}

export function optUint(fields: Fields, key: string, max?: number): number | undefined {
  return fields[key] === undefined ? undefined : uint(fields, key, max);
}

export function bytes(fields: Fields, key: string, length: number): Buffer {
  const value = fields[key];
  if (!(value instanceof Uint8Array) || value.length !== length) {
    throw malformed(`field ${key} must be ${length} bytes`);
  }
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.length);
}

export function oneOf<T extends string>(fields: Fields, key: string, allowed: readonly T[]): T {
  const value = fields[key];
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw malformed(`field ${key} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function errorCode(fields: Fields, key: string): ErrorCode {
  const value = str(fields, key, 64);
  // An unknown code from a newer peer is still an error: map it rather than reject the frame.
  return isErrorCode(value) ? value : 'ERR_INTERNAL';
}

export function list<T>(fields: Fields, key: string, max: number, item: (value: unknown) => T): T[] {
  const value = fields[key];
  if (!Array.isArray(value) || value.length > max) throw malformed(`field ${key} must be a list of at most ${max}`);
  return value.map(item);
}
