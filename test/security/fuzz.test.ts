/**
 * Property-based abuse (fast-check), adding what test/unit/codec.test.ts and parse.test.ts do not cover:
 * the FrameDecoder against a reference model on arbitrary byte streams (oversize headers included) split
 * anywhere; decodeBody and every parser on arbitrary bytes and on mutated valid messages; and the relay
 * core fed arbitrary frame bodies in every phase: it never throws, and a bad frame always ends in a
 * 'close' command for that connection (a good one never does).
 */
import test from 'ava';
import fc from 'fast-check';
import { BurrowError } from '../../shared/errors.js';
import { decodeBody, encodeBody, frame, FrameDecoder } from '../../shared/protocol/codec.js';
import { parsePeerControl, parsePeerHandshake, parseRelayControl, parseRelayHandshake } from '../../shared/protocol/parse.js';
import type { RelayCommand } from '../../relay/core/relay-events.js';
import { closed, RelayHarness, userRecord, type Peer } from '../helpers/unit-relay.js';

const PARSERS = [parsePeerControl, parsePeerHandshake, parseRelayControl, parseRelayHandshake];

function header(length: number): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(length, 0);
  return h;
}

/** What a correct decoder yields for `stream` with limit `max`: the frames, and whether it must refuse. */
function model(stream: Buffer, max: number): { frames: Buffer[]; tooLarge: boolean; rest: number } {
  const frames: Buffer[] = [];
  let at = 0;
  while (stream.length - at >= 4) {
    const length = stream.readUInt32BE(at);
    if (length > max) return { frames, tooLarge: true, rest: stream.length - at };
    if (stream.length - at < 4 + length) break;
    frames.push(stream.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return { frames, tooLarge: false, rest: stream.length - at };
}

const streamPiece = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => frame(Buffer.from(b))),
  fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b)),
  fc.oneof(fc.nat({ max: 400 }), fc.constant(0xffffffff), fc.integer({ min: 0, max: 0xffffffff })).map(header),
);

test('Faults (fuzz): FrameDecoder matches a reference model on arbitrary streams split anywhere, throws only ERR_FRAME_TOO_LARGE, and never holds more than max + 4 + one chunk', (t) => {
  fc.assert(
    fc.property(fc.nat({ max: 300 }), fc.array(streamPiece, { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 25 }), (max, pieces, cuts) => {
      const stream = Buffer.concat(pieces);
      const expected = model(stream, max);
      const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
      const decoder = new FrameDecoder(max);
      const got: Buffer[] = [];
      let from = 0;
      let refused = false;
      for (const to of [...points, stream.length]) {
        const chunk = stream.subarray(from, to);
        from = to;
        // The relay's way: append, then take frames one at a time.
        decoder.append(chunk);
        if (decoder.buffered > max + 4 + chunk.length) return false;
        try {
          for (let body = decoder.next(); body; body = decoder.next()) got.push(body);
        } catch (err) {
          if (!(err instanceof BurrowError) || err.code !== 'ERR_FRAME_TOO_LARGE') throw err;
          refused = true;
          break;
        }
        if (decoder.buffered >= max + 4) return false;
      }
      if (refused !== expected.tooLarge) return false;
      if (got.length !== expected.frames.length || !got.every((b, i) => b.equals(expected.frames[i]!))) return false;
      return refused || decoder.buffered === expected.rest;
    }),
    { numRuns: 1500 },
  );
  t.pass();
});

/** Valid messages of every kind, as msgpack bodies, to mutate. */
const VALID_BODIES = [
  { t: 'login', jwe: 'a.b.c.d.e' },
  { t: 'attach', sid: 'c2Vzc2lvbg', purpose: 'stream', server: 'web', mac: Buffer.alloc(32, 1) },
  { t: 'attach', sid: 'c2Vzc2lvbg', purpose: 'dial', dial: 'ZGlhbA', mac: Buffer.alloc(32, 2) },
  { t: 'advertise', id: 1, servers: [{ id: 'web', description: 'd', protocol: 'http', proxy: 'v2' }] },
  { t: 'list', id: 2 },
  { t: 'ping', n: 3 },
  { t: 'hello', v: 1, port: 'client', challenge: Buffer.alloc(32), key: Buffer.alloc(32), eph: Buffer.alloc(32), exp: 1, sig: Buffer.alloc(64) },
  { t: 'bind', server: 'web', proxy: { src: '192.0.2.1', srcPort: 1, dst: '::1', dstPort: 2 } },
  { t: 'servers', id: 2, servers: [{ id: 'web', description: '', protocol: 'tcp' }] },
  { t: 'advertised', id: 1, accepted: ['web'], rejected: [{ id: 'x', code: 'ERR_LIMIT' }] },
].map((m) => encodeBody(m));

/** A valid body with bytes overwritten, inserted, or cut. */
const mutatedBody = fc.tuple(
  fc.constantFrom(...VALID_BODIES),
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
  fc.option(fc.nat()),
  fc.option(fc.uint8Array({ maxLength: 8 })),
).map(([body, edits, cut, insert]) => {
  const b = Buffer.from(body);
  for (const [at, value] of edits) b[at % b.length] = value;
  const cutAt = cut === null ? b.length : cut % (b.length + 1);
  return insert ? Buffer.concat([b.subarray(0, cutAt), insert, b.subarray(cutAt)]) : b.subarray(0, cutAt);
});

const anyBody = fc.oneof(fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)), mutatedBody);

test('Faults (fuzz): decodeBody and every parser, on arbitrary bytes and mutated valid messages, throw nothing but ERR_MALFORMED_FRAME', (t) => {
  let decoded = 0;
  fc.assert(
    fc.property(anyBody, (body) => {
      let value: unknown;
      try {
        value = decodeBody(body);
      } catch (err) {
        if (!(err instanceof BurrowError) || err.code !== 'ERR_MALFORMED_FRAME') throw err;
        return;
      }
      decoded++;
      for (const parse of PARSERS) {
        try {
          parse(value);
        } catch (err) {
          if (!(err instanceof BurrowError) || err.code !== 'ERR_MALFORMED_FRAME') throw err;
        }
      }
    }),
    { numRuns: 4000 },
  );
  t.true(decoded > 100, `the mutations reached the parsers (${decoded} decoded)`);
});

/** Whether a body is a valid message for `parse`. */
function valid(parse: (v: unknown) => unknown, body: Buffer): boolean {
  try {
    parse(decodeBody(body));
    return true;
  } catch {
    return false;
  }
}

const SKELETON = userRecord(['skeleton'], { serve: ['*'] });
const CLIENT = userRecord(['client'], { access: ['*'] });

/** A relay with a skeleton (serving web, one pooled connection) and a client, from a fresh source. */
function relayWorld(): { h: RelayHarness; skeleton: Peer; client: Peer; pooled: number } {
  const h = new RelayHarness();
  const skeleton = h.login('home', 'skeleton', SKELETON);
  h.advertise(skeleton, ['web']);
  const client = h.login('alice', 'client', CLIENT);
  const { conn: pooled } = h.attach(skeleton, 'pool');
  return { h, skeleton, client, pooled };
}

function closes(conn: number, cmds: RelayCommand[]): boolean {
  return closed(conn, cmds);
}

test('Faults (fuzz): the relay core given arbitrary frames before login closes exactly the connections that sent invalid ones, and never throws', (t) => {
  fc.assert(
    fc.property(fc.constantFrom('client' as const, 'skeleton' as const), anyBody, (port, body) => {
      const { h } = relayWorld();
      const { conn } = h.greet(port);
      const cmds = h.handle({ type: 'frame', conn, body });
      return valid(parsePeerHandshake, body) || closes(conn, cmds);
    }),
    { numRuns: 600 },
  );
  t.pass();
});

const sealedPlaintext = fc.oneof(
  anyBody,
  fc.anything({ maxDepth: 3 }).map((v) => {
    try {
      return encodeBody(v as object);
    } catch {
      return Buffer.from([0xc1]);
    }
  }),
  fc.record({
    t: fc.constantFrom('advertise', 'list', 'ping', 'pong', 'login', 'error', ''),
    id: fc.oneof(fc.nat(), fc.integer({ min: -5, max: 5 }), fc.string()),
    n: fc.oneof(fc.nat(), fc.double()),
    servers: fc.array(fc.record({
      id: fc.constantFrom('web', 'WEB', 'api', '-x', 'a'.repeat(64)), description: fc.string(), protocol: fc.string({ maxLength: 40 }),
      proxy: fc.constantFrom('v1', 'v2', 'v3'),
    }, { requiredKeys: ['id'] }), { maxLength: 4 }),
  }, { requiredKeys: ['t'] }).map((m) => encodeBody(m)),
);

test('Faults (fuzz): the relay core given arbitrary sealed plaintexts on a control channel closes it exactly when the message is invalid, and never throws', (t) => {
  fc.assert(
    fc.property(fc.boolean(), sealedPlaintext, (asSkeleton, plaintext) => {
      const { h, skeleton, client } = relayWorld();
      const peer = asSkeleton ? skeleton : client;
      const cmds = h.handle({ type: 'frame', conn: peer.conn, body: peer.sealer.seal(plaintext) });
      return valid(parsePeerControl, plaintext) !== closes(peer.conn, cmds);
    }),
    { numRuns: 600 },
  );
  t.pass();
});

test('Faults (fuzz): the relay core closes a connection that sends an unsealed, replayed or arbitrary frame after login, or any frame while verifying, pooled, waiting or joined', (t) => {
  fc.assert(
    fc.property(fc.constantFrom('control', 'replay', 'verifying', 'pooled', 'waiting', 'joined'), anyBody, (phase, body) => {
      const { h, skeleton, client, pooled } = relayWorld();
      let conn: number;
      let frameBody: Buffer = body;
      switch (phase) {
        case 'control':
          conn = client.conn;
          break;
        case 'replay': {
          conn = client.conn;
          frameBody = h.sealed(client, { t: 'list', id: 1 });
          if (closes(conn, h.handle({ type: 'frame', conn, body: frameBody }))) return false;
          break;
        }
        case 'verifying':
          conn = h.greet('client').conn;
          h.beginLogin(conn);
          break;
        case 'pooled':
          conn = pooled;
          break;
        case 'waiting': {
          // Take the pooled connection first, so the next stream waits on a dial.
          h.attach(client, 'stream', { server: 'web' });
          conn = h.attach(client, 'stream', { server: 'web' }).conn;
          break;
        }
        case 'joined':
          conn = h.attach(client, 'stream', { server: 'web' }).conn;
          break;
      }
      const phaseNow = h.core.state.conns.get(conn)?.phase;
      if (phase !== 'replay' && phase !== 'control' && phaseNow !== phase) throw new Error(`set-up reached ${phaseNow}, not ${phase}`);
      return closes(conn, h.handle({ type: 'frame', conn, body: frameBody }));
    }),
    { numRuns: 600 },
  );
  t.pass();
});

test('Faults (fuzz): arbitrary event sequences (frames, raw and bad bytes, closes, verdicts, ticks, unknown connections) never make the relay core throw', (t) => {
  const event = fc.oneof(
    fc.record({ type: fc.constant('frame' as const), conn: fc.nat({ max: 8 }), body: anyBody }),
    fc.record({ type: fc.constant('raw-bytes' as const), conn: fc.nat({ max: 8 }) }),
    fc.record({ type: fc.constant('bad-bytes' as const), conn: fc.nat({ max: 8 }), code: fc.constantFrom('ERR_FRAME_TOO_LARGE' as const, 'ERR_MALFORMED_FRAME' as const) }),
    fc.record({ type: fc.constant('closed' as const), conn: fc.nat({ max: 8 }) }),
    fc.record({ type: fc.constant('login-verified' as const), conn: fc.nat({ max: 8 }), ok: fc.boolean() }),
    fc.record({ type: fc.constant('tick' as const), advance: fc.nat({ max: 40_000 }) }),
    fc.record({ type: fc.constant('opened' as const), port: fc.constantFrom('client' as const, 'skeleton' as const) }),
  );
  fc.assert(
    fc.property(fc.array(event, { maxLength: 30 }), (events) => {
      const { h, skeleton } = relayWorld();
      // Straight into the core: the harness's own checks of what peers receive are not the subject here.
      const core = h.core;
      let next = 100;
      for (const e of events) {
        switch (e.type) {
          case 'tick':
            h.now += e.advance;
            core.handle({ type: 'tick' }, h.now);
            break;
          case 'opened':
            core.handle({ type: 'opened', conn: next++, port: e.port, source: '198.51.100.9' }, h.now);
            break;
          case 'login-verified': {
            const verdict = e.ok ? { passwordOk: true, record: SKELETON, welcomeJwe: 'a.b.c.d.e' } : { passwordOk: false };
            core.handle({ type: 'login-verified', conn: e.conn, verdict }, h.now);
            break;
          }
          default:
            core.handle(e, h.now);
        }
      }
      // Whatever happened, the bookkeeping is sane.
      return h.core.state.guard.unauthenticated >= 0 && [...h.core.state.sessions.values()].every((s) => s.streams >= 0) && skeleton.sid.length > 0;
    }),
    { numRuns: 400 },
  );
  t.pass();
});
