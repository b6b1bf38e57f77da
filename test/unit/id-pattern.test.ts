import test from 'ava';
import type { BurrowError } from '../../shared/errors.js';
import fc from 'fast-check';
import { isValidPattern, isValidServerId, matchesAny, matchesPattern, validatePattern } from '../../relay/users/id-pattern.js';

const idChar = fc.constantFrom(...'abcXYZ019._-'.split(''));
const serverId = fc
  .tuple(fc.constantFrom(...'abZ09'.split('')), fc.array(idChar, { maxLength: 20 }))
  .map(([first, rest]) => first + rest.join(''));

test('server ids: letters, digits, dot, underscore, dash; 1-63 chars; alphanumeric first', (t) => {
  for (const id of ['a', 'web', 'Home-SSH', 'mail.example_1', '0', 'a'.repeat(63)]) t.true(isValidServerId(id), id);
  for (const id of ['', '-web', '.x', '_x', 'a b', 'a/b', 'a*', 'ä', 'a'.repeat(64), 'web\n']) t.false(isValidServerId(id), id);
});

test('patterns: id characters and *, starting with an alphanumeric or *', (t) => {
  for (const p of ['*', 'web', 'home-*', '*-ssh', 'a*b*c', '**']) t.true(isValidPattern(p), p);
  for (const p of ['', '-*', '.*', 'a b', 'a?', '[ab]', '(a|b)', 'a+', 'a'.repeat(64)]) t.false(isValidPattern(p), p);
  t.notThrows(() => validatePattern('home-*'));
  t.is(t.throws<BurrowError>(() => validatePattern('a?'))?.code, 'ERR_USAGE');
});

test('star matches any run of id characters, including none', (t) => {
  t.true(matchesPattern('*', 'anything'));
  t.true(matchesPattern('home-*', 'home-'));
  t.true(matchesPattern('home-*', 'home-ssh'));
  t.true(matchesPattern('*-ssh', 'box-ssh'));
  t.true(matchesPattern('a*b*c', 'abc'));
  t.true(matchesPattern('a*b*c', 'aXXbYYbc'));
  t.false(matchesPattern('home-*', 'home'));
  t.false(matchesPattern('home-*', 'myhome-ssh'));
  t.false(matchesPattern('a*b*c', 'acb'));
  t.false(matchesPattern('web', 'web2'));
});

test('matching is exact-case', (t) => {
  t.true(matchesAny(['Web'], 'Web'));
  t.false(matchesAny(['Web'], 'web'));
  t.false(matchesAny(['web-*'], 'WEB-1'));
});

test('matchesAny: any pattern, never an invalid id, never an invalid pattern', (t) => {
  t.true(matchesAny(['mail', 'web-*'], 'web-1'));
  t.false(matchesAny([], 'web'));
  t.false(matchesAny(['*'], 'bad id'));
  t.false(matchesAny(['*'], ''));
  t.false(matchesAny(['.*'], 'web')); // regex syntax is not a pattern
  t.false(matchesAny(['w.b'], 'web')); // dot is a literal
});

test('a pattern without * matches exactly itself', (t) => {
  fc.assert(fc.property(serverId, serverId, (a, b) => matchesPattern(a, b) === (a === b)));
  t.pass();
});

test('replacing any slice of an id with * still matches it; agrees with an escaped regex', (t) => {
  const escaped = (p: string): RegExp =>
    new RegExp('^' + p.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')).join('[A-Za-z0-9._-]*') + '$');
  fc.assert(
    fc.property(serverId, fc.nat(), fc.nat(), serverId, (id, i, j, other) => {
      const start = i % (id.length + 1);
      const end = start + (j % (id.length - start + 1));
      const pattern = id.slice(0, start) + '*' + id.slice(end);
      if (!matchesPattern(pattern, id)) return false;
      return matchesPattern(pattern, other) === escaped(pattern).test(other);
    }),
  );
  t.pass();
});

test('pathological patterns stay fast (no exponential backtracking)', (t) => {
  const pattern = '*a'.repeat(31) + 'b';
  const id = 'a'.repeat(63);
  t.false(matchesPattern(pattern, id));
});
