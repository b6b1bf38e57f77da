/**
 * Nothing a peer sends may crash the relay: oversized, truncated, random and deeply nested frames on
 * both ports, before login and on a logged-in control channel, close that connection only, while a
 * normal client keeps listing and streaming; memory stays bounded. (Slowloris: slowloris.test.ts.)
 */
import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { codeOf, type ErrorCode } from '../../shared/errors.js';
import { attachMac } from '../../shared/crypto/attach-proof.js';
import { attachData } from '../../shared/peer/data-connection.js';
import { greet } from '../../shared/peer/relay-greeting.js';
import { login } from '../../shared/peer/peer-login.js';
import { decodeBody, encodeFrame, frame } from '../../shared/protocol/codec.js';
import { parseRelayHandshake } from '../../shared/protocol/parse.js';
import { Redacted } from '../../shared/redacted.js';
import { HandControl } from '../helpers/security-control.js';
import { LogWatch } from '../helpers/security-log.js';
import { answerTo, header, nested } from '../helpers/security-abuse.js';
import { FrameReader } from '../helpers/security-net.js';
import { sendAndCollect } from '../helpers/streams.js';
import { closed, plainTo, RelayHarness, userRecord } from '../helpers/unit-relay.js';
import { connectTestClient, echoServer, newSecret, PASSWORD, server, startTestSkeleton, startWorld, type World } from '../helpers/world.js';

interface Served {
  world: World;
  /**
   * Runs `abuse` over and over while a normal client lists and streams in a loop, until the client has
   * done a few rounds during it; asserts the client never failed.
   */
  whileServing(t: ExecutionContext, abuse: () => Promise<void>): Promise<void>;
}

async function servedWorld(t: ExecutionContext, watch?: LogWatch): Promise<Served> {
  // No throttling here: every abusive connection must reach the frame decoder and the parser.
  const world = await startWorld(t, { relay: { guard: { penaltyMinMs: 1e12, maxUnauthPerSource: 100_000, maxUnauth: 100_000 } }, ...(watch ? { log: watch.log } : {}) });
  const echo = await echoServer(t);
  const secret = newSecret();
  await startTestSkeleton(t, world, [server('echo', echo.port, secret)]);
  const client = await connectTestClient(t, world);
  const round = async (i: number): Promise<void> => {
    const ids = (await client.list()).map((s) => s.id);
    if (ids.join() !== 'echo') throw new Error(`listing ${ids.join()}`);
    const back = await sendAndCollect(await client.open('echo', { secret }), Buffer.from(`round ${i}`));
    if (back.toString() !== `round ${i}`) throw new Error('echo differs');
  };
  return {
    world,
    async whileServing(t2, abuse) {
      let done = false;
      let rounds = 0;
      const failures: ErrorCode[] = [];
      await round(-1);
      const loop = (async () => {
        while (!done) {
          await round(rounds).catch((err: unknown) => failures.push(codeOf(err)));
          rounds++;
        }
      })();
      const before = rounds;
      let repeats = 0;
      do {
        await abuse();
        repeats++;
      } while (rounds - before < 3 && repeats < 20);
      const during = rounds - before;
      done = true;
      await loop;
      await round(rounds);
      t2.deepEqual(failures, [], 'the normal client never failed');
      t2.true(during >= 3, `the normal client made progress during the abuse (${during} rounds in ${repeats} repeats)`);
    },
  };
}

const login10 = encodeFrame({ t: 'login', jwe: 'a.b.c.d.e' }).subarray(0, 10);
const HANDSHAKE_ABUSE: [string, () => Buffer, (ErrorCode | string)[][]][] = [
  ['a length of 2 GiB', () => header(0x7fffffff), [['ERR_FRAME_TOO_LARGE']]],
  ['a length one byte over the handshake limit', () => Buffer.concat([header(8193), randomBytes(100)]), [['ERR_FRAME_TOO_LARGE']]],
  ['a control-sized frame before login', () => frame(randomBytes(60_000)), [['ERR_FRAME_TOO_LARGE']]],
  ['random bytes', () => Buffer.concat([Buffer.from([0, 0, 0x10, 0]), randomBytes(4096)]), [['ERR_MALFORMED_FRAME']]],
  ['an 8 KiB array nest', () => frame(nested(8191, [0x91])), [['ERR_MALFORMED_FRAME']]],
  ['an 8 KiB map nest', () => frame(nested(2730, [0x81, 0xa1, 0x74])), [['ERR_MALFORMED_FRAME']]],
  ['a string claiming 4 GiB', () => frame(Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x41])), [['ERR_MALFORMED_FRAME']]],
  ['an array claiming 4 billion items', () => frame(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0])), [['ERR_MALFORMED_FRAME']]],
  ['a peer message of a relay type', () => encodeFrame({ t: 'hello', v: 1 }), [['ERR_MALFORMED_FRAME']]],
  ['an empty frame', () => header(0), [['ERR_MALFORMED_FRAME']]],
];

test('Faults: malformed frames during the handshake on both ports close that connection with the right code, while a normal client keeps working', async (t) => {
  const { world, whileServing } = await servedWorld(t);
  await whileServing(t, async () => {
    await Promise.all([world.clientTarget.port, world.skeletonTarget.port].flatMap((port) => [
      ...HANDSHAKE_ABUSE.map(async ([what, bytes, expected]) => {
        t.deepEqual([await answerTo(t, port, (p) => p.send(bytes()))], expected, `${what} on ${port}`);
      }),
      (async () => {
        t.deepEqual(await answerTo(t, port, (p) => p.socket.end(login10)), [], `a truncated frame, then the end, on ${port}: closed at once`);
      })(),
    ]));
  });
});

type ControlAbuse = [string, (c: HandControl) => void, ErrorCode | undefined];
const CONTROL_ABUSE: ControlAbuse[] = [
  ['an unsealed frame', (c) => c.send(encodeFrame({ t: 'list', id: 1 })), 'ERR_PROTOCOL'],
  ['a length one byte over the control limit', (c) => c.send(header(64 * 1024 + 1)), 'ERR_FRAME_TOO_LARGE'],
  ['a length of 2 GiB', (c) => c.send(header(0x7fffffff)), 'ERR_FRAME_TOO_LARGE'],
  ['64 KiB of random bytes', (c) => c.send(frame(randomBytes(64 * 1024))), 'ERR_PROTOCOL'],
  ['a sealed frame shorter than its tag', (c) => c.send(frame(randomBytes(5))), 'ERR_PROTOCOL'],
  ['sealed random plaintext', (c) => c.send(c.sealBytes(Buffer.concat([Buffer.from([0xc1]), randomBytes(1000)]))), 'ERR_MALFORMED_FRAME'],
  ['a sealed 60 KiB array nest', (c) => c.send(c.sealBytes(nested(60_000, [0x91]))), 'ERR_MALFORMED_FRAME'],
  ['a sealed 60 KiB map nest', (c) => c.send(c.sealBytes(nested(20_000, [0x81, 0xa1, 0x74]))), 'ERR_MALFORMED_FRAME'],
  ['a sealed array claiming 4 billion items', (c) => c.send(c.sealBytes(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0]))), 'ERR_MALFORMED_FRAME'],
  ['a sealed handshake message', (c) => c.send(c.seal({ t: 'login', jwe: 'a.b.c.d.e' })), 'ERR_MALFORMED_FRAME'],
  ['a sealed list with an extra field', (c) => c.send(c.seal({ t: 'list', id: 1, admin: true })), 'ERR_MALFORMED_FRAME'],
  ['half a sealed frame, then the end', (c) => {
    const f = c.seal({ t: 'list', id: 1 });
    c.send(f.subarray(0, 9));
    c.reader.socket.end();
  }, undefined],
];

test('Faults: malformed frames on a logged-in control channel close it and end its session, while a normal client keeps working', async (t) => {
  const watch = new LogWatch();
  const { world, whileServing } = await servedWorld(t, watch);
  await whileServing(t, async () => {
    await Promise.all(CONTROL_ABUSE.map(async ([what, abuse, code]) => {
      const session = await login(world.clientTarget, 'client', { user: 'alice', password: new Redacted(PASSWORD) });
      const control = HandControl.fromSession(session);
      abuse(control);
      const got = await control.untilClosed();
      t.deepEqual(got, code ? [{ t: 'error', code }] : [], what);
      await watch.sessionEnded(session.sid);
      t.false(world.relay.runtime.core.state.sessions.has(session.sid), what);
    }));
  });
});

test('Faults: a well-formed request that is not allowed gets an error reply and the control channel lives on (unlike the garbage above)', async (t) => {
  const world = await startWorld(t);
  const control = HandControl.fromSession(await login(world.clientTarget, 'client', { user: 'alice', password: new Redacted(PASSWORD) }));
  control.send(control.seal({ t: 'advertise', id: 7, servers: [{ id: 'web', description: '', protocol: 'http' }] }));
  t.deepEqual(await control.next(), { t: 'error', id: 7, code: 'ERR_INVALID_REQUEST' });
  control.send(control.seal({ t: 'list', id: 8 }));
  t.deepEqual(await control.next(), { t: 'servers', id: 8, servers: [] });
});

test('Faults: a pooled skeleton data connection that speaks before it is bound is closed with ERR_PROTOCOL', (t) => {
  const h = new RelayHarness();
  const skeleton = h.login('home', 'skeleton', userRecord(['skeleton'], { serve: ['*'] }));
  const { conn, cmds } = h.attach(skeleton, 'pool');
  t.true(cmds.some((c) => c.type === 'hold' && c.conn === conn), 'pooled');
  const spoke = h.handle({ type: 'raw-bytes', conn });
  t.deepEqual(plainTo(conn, spoke), [{ t: 'error', code: 'ERR_PROTOCOL' }]);
  t.true(closed(conn, spoke));
});

// Regression (was a bug): relay/io/relay-connection.ts:48-50 (#onData) only reports 'raw-bytes' for chunks that arrive after the
// connection is held; bytes that came in the same TCP read as the pool Attach frame stay in the decoder and are
// later flushed to the client as if the skeleton had sent them after Bind. So "a pooled connection must stay
// silent until bound" (docs/PROTOCOL.md, relay-core.ts:42) depends on TCP segmentation. Fix: after the core
// holds a 'pooled' connection, check decoder.buffered > 0 and dispatch 'raw-bytes' at once.
test('Faults: a pooled skeleton data connection that sends bytes together with its Attach is closed, not bound', async (t) => {
  const world = await startWorld(t, { relay: { limits: { dialTimeoutMs: 200 } } });
  const creds = { password: new Redacted(PASSWORD) };
  const skeleton = await login(world.skeletonTarget, 'skeleton', { user: 'home', ...creds });
  const control = HandControl.fromSession(skeleton);
  control.send(control.seal({ t: 'advertise', id: 1, servers: [{ id: 'web', description: '', protocol: 'tcp' }] }));
  t.like(await control.next(), { t: 'advertised', accepted: ['web'] });
  const greeting = await greet(world.skeletonTarget, 'skeleton', 10_000);
  const claim = { sid: skeleton.sid, purpose: 'pool' as const };
  const attach = encodeFrame({ t: 'attach', ...claim, mac: attachMac(skeleton.keys.attach, greeting.hello.challenge, claim) });
  const pooled = new FrameReader(greeting.socket, { leftover: greeting.channel.detach() });
  greeting.socket.on('end', () => greeting.socket.end());
  greeting.socket.write(Buffer.concat([attach, Buffer.from('not silent')]));
  // A client opens 'web': a pooled connection still waiting would be bound now.
  const client = await login(world.clientTarget, 'client', { user: 'alice', ...creds });
  t.teardown(() => client.channel.socket.destroy());
  const stream = await attachData(world.clientTarget, 'client', client, { purpose: 'stream', server: 'web' });
  t.teardown(() => stream.socket.destroy());
  const first = await pooled.next();
  t.deepEqual(parseRelayHandshake(decodeBody(first!)), { t: 'error', code: 'ERR_PROTOCOL' });
});

function gcFunction(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

function memory(gc: (() => void) | undefined): number {
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

test('Faults: memory stays bounded under 200 oversized-length headers and 200 frames of 8 KiB random data', async (t) => {
  const { world } = await servedWorld(t);
  const gc = gcFunction();
  t.log(gc ? 'measuring after gc' : 'gc not available: measuring without it');
  const before = memory(gc);
  const batch = async (make: () => Buffer, count: number): Promise<void> => {
    for (let done = 0; done < count; done += 25) {
      await Promise.all(Array.from({ length: 25 }, async (_, i) => {
        const port = (done + i) % 2 ? world.clientTarget.port : world.skeletonTarget.port;
        const codes = await answerTo(t, port, (p) => p.send(make()));
        if (codes.length !== 1) throw new Error(`answered ${codes.join()}`);
      }));
    }
  };
  await batch(() => header(0x7fffffff - Math.floor(Math.random() * 1000)), 200);
  await batch(() => frame(randomBytes(8192)), 200);
  const growth = memory(gc) - before;
  t.log(`growth ${(growth / 2 ** 20).toFixed(1)} MiB`);
  t.true(growth < 64 * 2 ** 20, `grew ${(growth / 2 ** 20).toFixed(1)} MiB`);
  t.is(world.relay.runtime.core.state.sessions.size, 2, 'the normal sessions are untouched');
});
