/**
 * shared/protocol/parse.ts (+ fields.ts): unknown -> typed message, every field checked. Anything that
 * does not fit is ERR_MALFORMED_FRAME; nothing a peer sends escapes as another kind of exception.
 */
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { BurrowError } from '../../shared/errors.js';
import { decodeBody, encodeBody } from '../../shared/protocol/codec.js';
import { parsePeerControl, parsePeerHandshake, parseRelayControl, parseRelayHandshake } from '../../shared/protocol/parse.js';
import { throwsCode } from '../helpers/unit-errors.js';

type Parser = (value: unknown) => unknown;
type Msg = Record<string, unknown>;
interface Case {
  parser: Parser;
  valid: Msg;
  /** Fields that may be left out. */
  optional?: string[];
}

const bytes = (n: number, fill = 1): Buffer => Buffer.alloc(n, fill);
const PARSERS: Record<string, Parser> = { parseRelayHandshake, parsePeerHandshake, parsePeerControl, parseRelayControl };
const info = { id: 'web', description: 'the web server', protocol: 'http' };

const CASES: Case[] = [
  { parser: parseRelayHandshake, valid: { t: 'hello', v: 1, port: 'skeleton', challenge: bytes(32), key: bytes(32, 2), eph: bytes(32, 3), exp: 1_700_000_060_000, sig: bytes(64, 4) } },
  { parser: parseRelayHandshake, valid: { t: 'welcome', jwe: 'eyJhbGciOiJkaXIifQ..aXY.Y3Q.dGFn' } },
  { parser: parseRelayHandshake, valid: { t: 'joined' } },
  { parser: parseRelayHandshake, valid: { t: 'bind', server: 'web' } },
  { parser: parseRelayHandshake, valid: { t: 'error', id: 7, code: 'ERR_AUTH_FAILED' }, optional: ['id'] },
  { parser: parsePeerHandshake, valid: { t: 'login', jwe: 'a.b.c.d.e' } },
  { parser: parsePeerHandshake, valid: { t: 'attach', sid: 'c2Vzc2lvbg', purpose: 'stream', server: 'ssh.home', mac: bytes(32) } },
  { parser: parsePeerHandshake, valid: { t: 'attach', sid: 'c2Vzc2lvbg', purpose: 'pool', mac: bytes(32) } },
  { parser: parsePeerHandshake, valid: { t: 'attach', sid: 'c2Vzc2lvbg', purpose: 'dial', dial: 'ZGlhbA', mac: bytes(32) } },
  { parser: parsePeerControl, valid: { t: 'advertise', id: 1, servers: [info, { id: 'mail', description: '', protocol: 'smtp' }] } },
  { parser: parsePeerControl, valid: { t: 'list', id: 2 } },
  { parser: parsePeerControl, valid: { t: 'ping', n: 3 } },
  { parser: parsePeerControl, valid: { t: 'pong', n: 3 } },
  { parser: parseRelayControl, valid: { t: 'advertised', id: 1, accepted: ['web'], rejected: [{ id: 'mail', code: 'ERR_SERVER_ID_TAKEN' }] } },
  { parser: parseRelayControl, valid: { t: 'servers', id: 2, servers: [info] } },
  { parser: parseRelayControl, valid: { t: 'dial', dial: 'ZGlhbA', server: 'web' } },
  { parser: parseRelayControl, valid: { t: 'goodbye', retryAfter: 5 } },
  { parser: parseRelayControl, valid: { t: 'error', code: 'ERR_UNKNOWN_SERVER' } },
  { parser: parseRelayControl, valid: { t: 'ping', n: 0 } },
  { parser: parseRelayControl, valid: { t: 'pong', n: 9 } },
];

/** What the parser sees: the value after a trip through the codec, as it arrives from a socket. */
function wire(value: unknown): unknown {
  return decodeBody(encodeBody(value as object));
}

function label(c: Case, what: string): string {
  return `${c.parser.name} ${String(c.valid.t)}${c.valid.purpose ? `/${String(c.valid.purpose)}` : ''}: ${what}`;
}

function rejects(t: ExecutionContext, parser: Parser, value: unknown, what: string): void {
  throwsCode(t, () => parser(wire(value)), 'ERR_MALFORMED_FRAME', what);
}

function wrongType(value: unknown): unknown {
  if (typeof value === 'string') return 7;
  if (typeof value === 'number') return String(value);
  return 'not-bytes-or-list';
}

test('every message type is accepted by its parser and comes back unchanged', (t) => {
  for (const c of CASES) t.deepEqual(c.parser(wire(c.valid)), c.valid, label(c, 'valid'));
});

test('a message of another direction or phase is refused', (t) => {
  for (const c of CASES) {
    for (const [name, parser] of Object.entries(PARSERS)) {
      const own = CASES.some((o) => o.parser === parser && o.valid.t === c.valid.t);
      if (!own) rejects(t, parser, c.valid, `${name} given ${String(c.valid.t)}`);
    }
  }
});

test('values that are not maps, and unknown types, are refused by every parser', (t) => {
  for (const parser of Object.values(PARSERS)) {
    for (const value of [null, 7, 'hello', [{ t: 'hello' }], bytes(4), {}, { t: 'nope' }, { t: 7 }]) {
      rejects(t, parser, value, `${parser.name} ${JSON.stringify(value)}`);
    }
  }
});

test('a missing required field is refused', (t) => {
  for (const c of CASES) {
    for (const key of Object.keys(c.valid)) {
      if (c.optional?.includes(key) || (c.valid.t === 'error' && key === 'code')) continue;
      const { [key]: _dropped, ...rest } = c.valid;
      rejects(t, c.parser, rest, label(c, `without ${key}`));
    }
  }
});

test('a field of the wrong type is refused', (t) => {
  for (const c of CASES) {
    for (const key of Object.keys(c.valid)) {
      if (c.valid.t === 'error' && key === 'code') continue;
      rejects(t, c.parser, { ...c.valid, [key]: wrongType(c.valid[key]) }, label(c, `${key} of the wrong type`));
    }
  }
});

test('an extra field is refused, at the top level and inside server entries', (t) => {
  for (const c of CASES) rejects(t, c.parser, { ...c.valid, extra: 1 }, label(c, 'extra field'));
  rejects(t, parsePeerControl, { t: 'advertise', id: 1, servers: [{ ...info, target: '10.0.0.1:80' }] }, 'advertise entry with a target');
  rejects(t, parseRelayControl, { t: 'servers', id: 1, servers: [{ ...info, address: '10.0.0.1' }] }, 'listing entry with an address');
  rejects(t, parseRelayControl, { t: 'advertised', id: 1, accepted: [], rejected: [{ id: 'web', code: 'ERR_LIMIT', why: 'x' }] }, 'rejected entry');
});

test('byte fields must have their exact length', (t) => {
  const hello = CASES[0]!.valid;
  for (const [key, length] of [['challenge', 31], ['challenge', 33], ['key', 31], ['eph', 33], ['sig', 63], ['sig', 65]] as const) {
    rejects(t, parseRelayHandshake, { ...hello, [key]: bytes(length) }, `hello ${key} of ${length} bytes`);
  }
  const pool = { t: 'attach', sid: 'abc', purpose: 'pool' };
  for (const length of [0, 31, 33]) rejects(t, parsePeerHandshake, { ...pool, mac: bytes(length) }, `mac of ${length} bytes`);
});

test('a bad server id is refused wherever an id appears', (t) => {
  for (const bad of ['-x', 'a/b', 'a'.repeat(64), '', '.web', 'web server']) {
    const where: [Parser, Msg][] = [
      [parseRelayHandshake, { t: 'bind', server: bad }],
      [parsePeerHandshake, { t: 'attach', sid: 'abc', purpose: 'stream', server: bad, mac: bytes(32) }],
      [parsePeerControl, { t: 'advertise', id: 1, servers: [{ ...info, id: bad }] }],
      [parseRelayControl, { t: 'servers', id: 1, servers: [{ ...info, id: bad }] }],
      [parseRelayControl, { t: 'advertised', id: 1, accepted: [bad], rejected: [] }],
      [parseRelayControl, { t: 'advertised', id: 1, accepted: [], rejected: [{ id: bad, code: 'ERR_LIMIT' }] }],
      [parseRelayControl, { t: 'dial', dial: 'abc', server: bad }],
    ];
    for (const [parser, value] of where) rejects(t, parser, value, `${String(value.t)} with id ${JSON.stringify(bad)}`);
  }
  // The longest id allowed is 63 characters.
  t.deepEqual(parseRelayHandshake(wire({ t: 'bind', server: 'a'.repeat(63) })), { t: 'bind', server: 'a'.repeat(63) });
});

test('attach purpose, server and dial must agree', (t) => {
  const base = { t: 'attach', sid: 'abc', mac: bytes(32) };
  const mismatches: Msg[] = [
    { ...base, purpose: 'stream' },
    { ...base, purpose: 'stream', server: 'web', dial: 'd1' },
    { ...base, purpose: 'pool', server: 'web' },
    { ...base, purpose: 'pool', dial: 'd1' },
    { ...base, purpose: 'dial' },
    { ...base, purpose: 'dial', dial: 'd1', server: 'web' },
    { ...base, purpose: 'other' },
  ];
  for (const value of mismatches) rejects(t, parsePeerHandshake, value, JSON.stringify({ ...value, mac: undefined }));
});

test('enumerations, tokens, numbers, text lengths and list sizes are bounded', (t) => {
  const hello = CASES[0]!.valid;
  const refused: [Parser, Msg, string][] = [
    [parseRelayHandshake, { ...hello, port: 'admin' }, 'port role'],
    [parseRelayHandshake, { ...hello, v: 0x10000 }, 'version above 16 bits'],
    [parseRelayHandshake, { ...hello, exp: -1 }, 'negative expiry'],
    [parseRelayHandshake, { ...hello, exp: 1.5 }, 'fractional expiry'],
    [parseRelayHandshake, { t: 'welcome', jwe: 'a.b.c.d' }, 'jwe of four parts'],
    [parseRelayHandshake, { t: 'welcome', jwe: 'a.b.c.d.e+' }, 'jwe with a non-base64url character'],
    [parsePeerHandshake, { t: 'login', jwe: `${'a'.repeat(4097)}....` }, 'jwe too long'],
    [parsePeerHandshake, { t: 'attach', sid: 'a b', purpose: 'pool', mac: bytes(32) }, 'sid with a space'],
    [parsePeerHandshake, { t: 'attach', sid: 'a'.repeat(65), purpose: 'pool', mac: bytes(32) }, 'sid too long'],
    [parsePeerControl, { t: 'ping', n: -1 }, 'negative ping'],
    [parsePeerControl, { t: 'list', id: Number.MAX_SAFE_INTEGER + 2 }, 'id above the safe range'],
    [parsePeerControl, { t: 'advertise', id: 1, servers: [{ ...info, description: 'd'.repeat(201) }] }, 'long description'],
    [parsePeerControl, { t: 'advertise', id: 1, servers: [{ ...info, protocol: 'p'.repeat(33) }] }, 'long protocol'],
    [parsePeerControl, { t: 'advertise', id: 1, servers: Array.from({ length: 257 }, (_, i) => ({ ...info, id: `s${i}` })) }, '257 servers'],
    [parseRelayControl, { t: 'goodbye', retryAfter: 3601 }, 'retryAfter above an hour'],
    [parseRelayControl, { t: 'dial', dial: 'a/b', server: 'web' }, 'dial token with a slash'],
  ];
  for (const [parser, value, what] of refused) rejects(t, parser, value, what);
  t.is((parsePeerControl(wire({ t: 'advertise', id: 1, servers: Array.from({ length: 256 }, (_, i) => ({ ...info, id: `s${i}` })) })) as { servers: unknown[] }).servers.length, 256);
});

test('an unknown error code maps to ERR_INTERNAL instead of refusing the frame', (t) => {
  for (const parser of [parseRelayHandshake, parseRelayControl]) {
    t.deepEqual(parser(wire({ t: 'error', code: 'ERR_FROM_THE_FUTURE' })), { t: 'error', code: 'ERR_INTERNAL' });
    t.deepEqual(parser(wire({ t: 'error', id: 3, code: 'toString' })), { t: 'error', id: 3, code: 'ERR_INTERNAL' });
  }
  const advertised = parseRelayControl(wire({ t: 'advertised', id: 1, accepted: [], rejected: [{ id: 'web', code: 'ERR_NEW' }] }));
  t.deepEqual(advertised, { t: 'advertised', id: 1, accepted: [], rejected: [{ id: 'web', code: 'ERR_INTERNAL' }] });
});

// Regression (was a bug in shared/protocol/fields.ts errorCode): any value, including a missing `code`, a number or a map, is
// accepted and mapped to ERR_INTERNAL. Only an unknown *string* code (a newer peer) should map; a missing
// or non-string code is a malformed frame like any other field of the wrong type.
test('an error message without a code, or with a non-string code, is malformed', (t) => {
  for (const parser of [parseRelayHandshake, parseRelayControl]) {
    for (const value of [{ t: 'error' }, { t: 'error', code: 7 }, { t: 'error', code: { x: 1 } }]) {
      rejects(t, parser, value, `${parser.name} ${JSON.stringify(value)}`);
    }
  }
});

const FIELD_NAMES = ['v', 'port', 'challenge', 'key', 'eph', 'exp', 'sig', 'jwe', 'server', 'code', 'id', 'sid', 'purpose', 'dial', 'mac', 'servers', 'n', 'accepted', 'rejected', 'retryAfter'];
const TYPES = [...new Set(CASES.map((c) => String(c.valid.t)))];
/** Maps shaped like messages, so the property also reaches the per-field checks. */
const shaped = fc.tuple(
  fc.constantFrom(...TYPES),
  fc.dictionary(fc.constantFrom(...FIELD_NAMES), fc.oneof(
    fc.anything(),
    fc.uint8Array({ minLength: 31, maxLength: 65 }),
    fc.constantFrom('web', 'a/b', 'client', 'skeleton', 'stream', 'pool', 'dial', 'a.b.c.d.e', 'ERR_LIMIT', 'abc'),
    fc.integer({ min: -2, max: 70_000 }),
    fc.array(fc.oneof(fc.anything(), fc.record({ id: fc.constantFrom('web', '-x', ''), description: fc.string(), protocol: fc.string(), code: fc.string() }, { requiredKeys: [] }))),
  )),
).map(([type, fields]) => ({ ...fields, t: type }));

test('property: any msgpack value yields a message or ERR_MALFORMED_FRAME, never another exception', (t) => {
  fc.assert(
    fc.property(fc.oneof(fc.anything(), shaped), (value) => {
      const decoded = wire(value);
      for (const parser of Object.values(PARSERS)) {
        try {
          const msg = parser(decoded);
          // What a parser returns is itself a valid message.
          if (JSON.stringify(parser(wire(msg))) !== JSON.stringify(msg)) return false;
        } catch (err) {
          if (!(err instanceof BurrowError) || err.code !== 'ERR_MALFORMED_FRAME') throw err;
        }
      }
      return true;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

/** `depth` nested one-element containers around a nil, built iteratively. */
function nested(depth: number, open: number[]): Buffer {
  const unit = Buffer.from(open);
  const out = Buffer.alloc(depth * unit.length + 1);
  for (let i = 0; i < depth; i++) unit.copy(out, i * unit.length);
  out[out.length - 1] = 0xc0;
  return out;
}

test('deeply nested msgpack is refused as ERR_MALFORMED_FRAME, never a RangeError', (t) => {
  // 0x91: a one-element array; 0x81 0xa1 0x74: a map {"t": ...}. Whether 10 000 levels overflow the
  // stack depends on the thread; a million always does. Either way only a BurrowError may come out.
  for (const depth of [10_000, 1_000_000]) {
    for (const body of [nested(depth, [0x91]), nested(depth, [0x81, 0xa1, 0x74])]) {
      let decoded: unknown;
      try {
        decoded = decodeBody(body);
      } catch (err) {
        t.true(err instanceof BurrowError, `depth ${depth}: ${String(err)}`);
        t.is((err as BurrowError).code, 'ERR_MALFORMED_FRAME');
        continue;
      }
      t.true(depth < 1_000_000, 'a million levels cannot have been decoded');
      for (const parser of Object.values(PARSERS)) throwsCode(t, () => parser(decoded), 'ERR_MALFORMED_FRAME', `${parser.name} depth ${depth}`);
    }
  }
  // The decoder is still sound afterwards.
  t.deepEqual(parsePeerHandshake(wire({ t: 'login', jwe: 'a.b.c.d.e' })), { t: 'login', jwe: 'a.b.c.d.e' });
});
