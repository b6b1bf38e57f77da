/**
 * A yes/no question on a terminal. Refuses (ERR_USAGE) when stdin is not a terminal: a script must say
 * --yes itself rather than have an answer piped in by accident.
 */
import { BurrowError } from '../errors.js';
import { requireBuiltin } from '../require-builtin.js';

export interface ConfirmIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stderr: (line: string) => void;
}

export async function confirm(io: ConfirmIo, question: string, refusal: string): Promise<boolean> {
  if (io.stdin.isTTY !== true) throw new BurrowError('ERR_USAGE', refusal);
  io.stderr(`${question} [y/N]`);
  const { createInterface } = requireBuiltin<typeof import('node:readline')>('node:readline');
  const rl = createInterface({ input: io.stdin, terminal: false });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
    });
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}
