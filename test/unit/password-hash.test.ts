import test from 'ava';
import { performance } from 'node:perf_hooks';
import { PasswordHasher, hashPassword, verifyPassword } from '../../relay/users/password-hash.js';
import { Redacted } from '../../shared/redacted.js';

const pw = (text: string): Redacted<string> => new Redacted(text);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

// Serial tests run before the concurrent ones, so other argon2 work in this file does not skew the timing.
test.serial('an unknown user costs about as much as a wrong password', async (t) => {
  const hasher = new PasswordHasher({ concurrency: 1 });
  const hash = await hasher.hash(pw('correct horse'));
  await hasher.prime();
  const wrong: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < 5; i++) {
    let start = performance.now();
    t.false(await hasher.verify(hash, pw('wrong')));
    wrong.push(performance.now() - start);
    start = performance.now();
    t.false(await hasher.verify(undefined, pw('wrong')));
    unknown.push(performance.now() - start);
  }
  const [w, u] = [median(wrong), median(unknown)];
  t.true(u >= 0.4 * w, `unknown ${u.toFixed(1)} ms vs wrong ${w.toFixed(1)} ms`);
  t.true(w >= 0.4 * u, `wrong ${w.toFixed(1)} ms vs unknown ${u.toFixed(1)} ms`);
});

test('hash is argon2id with the OWASP parameters and a random salt', async (t) => {
  const a = await hashPassword(pw('secret'));
  const b = await hashPassword(pw('secret'));
  t.regex(a, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  t.not(a, b);
  t.false(a.includes('secret'));
});

test('verify: right password true, wrong password false', async (t) => {
  const hash = await hashPassword(pw('s3cret pass'));
  t.true(await verifyPassword(hash, pw('s3cret pass')));
  t.false(await verifyPassword(hash, pw('s3cret pas')));
  t.false(await verifyPassword(hash, pw('')));
});

test('an unknown user is false, even with the password of the dummy never revealed', async (t) => {
  t.false(await verifyPassword(undefined, pw('anything')));
  t.false(await verifyPassword(undefined, pw('')));
});

test('a malformed stored hash is an internal error, not a crash or a success', async (t) => {
  const err = await t.throwsAsync(verifyPassword('$argon2id$garbage', pw('x')));
  t.is((err as { code?: string } | undefined)?.code, 'ERR_INTERNAL');
});

test('the hasher queues beyond its concurrency and finishes everything', async (t) => {
  const hasher = new PasswordHasher({ concurrency: 1 });
  const hash = await hasher.hash(pw('p'));
  const runs = [hasher.verify(hash, pw('p')), hasher.verify(hash, pw('q')), hasher.verify(undefined, pw('p'))];
  t.is(hasher.pending, 3);
  t.deepEqual(await Promise.all(runs), [true, false, false]);
  t.is(hasher.pending, 0);
});
