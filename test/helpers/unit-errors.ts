/** Assertions on BurrowError codes: tests check `.code`, never message text. */
import type { ExecutionContext } from 'ava';
import { BurrowError, type ErrorCode } from '../../shared/errors.js';

export function throwsCode(t: ExecutionContext, fn: () => unknown, code: ErrorCode, message?: string): BurrowError | undefined {
  const err = t.throws(fn, { instanceOf: BurrowError }, message);
  t.is(err?.code, code, message);
  return err;
}

export async function rejectsCode(t: ExecutionContext, fn: () => Promise<unknown>, code: ErrorCode, message?: string): Promise<BurrowError | undefined> {
  const err = await t.throwsAsync(fn, { instanceOf: BurrowError }, message);
  t.is(err?.code, code, message);
  return err;
}
