/**
 * Issue 13, finding 1 (work a peer can queue): the argon2 work behind logins is bounded, fair, dropped
 * when its connection goes, and charged to the source that queued it. Real sockets against a real relay;
 * other loopback addresses stand for other sources.
 */
import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { sealLogin } from '../../shared/crypto/login-token.js';
import type { ErrorCode } from '../../shared/errors.js';
import { encodeFrame } from '../../shared/protocol/codec.js';
import { Redacted } from '../../shared/redacted.js';
import type { RelayNote } from '../../relay/core/relay-events.js';
import { closedOf } from '../helpers/security-net.js';
import { countVerifications, greetFrom, loginFrom, outcomeCode } from '../helpers/security-peer.js';
import { connectTestClient, echoServer, newSecret, server, startTestSkeleton, startWorld, type World } from '../helpers/world.js';

/** A well-formed Login for `world`'s client port (wrong password): it costs the relay a full argon2 check. */
async function junkLogin(t: ExecutionContext, world: World): Promise<Buffer> {
  const greeting = await greetFrom(t, world.clientTarget, 'client', '127.0.0.9');
  greeting.peer.socket.destroy();
  if (!('hello' in greeting)) throw new Error('no hello');
  const jwe = await sealLogin(greeting.hello.eph, {
    user: 'alice', password: new Redacted('not the password'), challenge: greeting.hello.challenge, clientKey: new Redacted(randomBytes(32)), port: 'client',
  });
  return encodeFrame({ t: 'login', jwe });
}

/** Greets from `from`, sends `login` and hangs up at once; says whether the relay refused the connection instead of greeting. */
async function loginAndHangUp(t: ExecutionContext, world: World, from: string, login: Buffer): Promise<ErrorCode | 'sent'> {
  const greeting = await greetFrom(t, world.clientTarget, 'client', from);
  if ('code' in greeting) {
    greeting.peer.socket.destroy();
    return greeting.code;
  }
  greeting.peer.socket.end(login);
  greeting.peer.socket.destroy();
  return 'sent';
}

test('Finding 1: 300 logins sent and hung up from one address start at most a few argon2 checks, get the address throttled, and a real login meanwhile takes < 2 s', async (t) => {
  const world = await startWorld(t);
  const verifications = countVerifications(world.relay);
  const abandoned: RelayNote[] = [];
  world.relay.runtime.on('note', (note: RelayNote) => {
    if (note.kind === 'login' && !note.ok && note.reason === 'abandoned') abandoned.push(note);
  });
  const login = await junkLogin(t, world);
  const answers: (ErrorCode | 'sent')[] = [];
  let legit: Promise<{ code: ErrorCode | 'ok'; ms: number }> | undefined;
  for (let batch = 0; batch < 10; batch++) {
    answers.push(...(await Promise.all(Array.from({ length: 30 }, () => loginAndHangUp(t, world, '127.0.0.2', login)))));
    // In the thick of it, the real user logs in from their own address.
    if (batch === 2) {
      legit = loginFrom(t, { target: world.clientTarget, port: 'client', user: 'alice', password: 'correct horse battery staple' })
        .then((outcome) => ({ code: outcomeCode(outcome), ms: outcome.elapsedMs }));
    }
  }
  const real = await legit!;
  const sent = answers.filter((a) => a === 'sent').length;
  const throttled = answers.filter((a) => a === 'ERR_THROTTLED').length;
  t.log(`300 attempts: ${sent} logins sent, ${throttled} refused as throttled; ${verifications()} argon2 checks; real login ${real.ms.toFixed(0)} ms`);
  t.is(real.code, 'ok');
  t.true(real.ms < 2000, `real login took ${real.ms} ms`);
  // Before: every hung-up login was checked (one per login sent) and the address was never charged.
  t.true(verifications() <= 12, `${verifications()} argon2 checks for ${sent} hung-up logins`);
  t.true(throttled >= 250, `only ${throttled} of 300 refused as throttled`);
  t.true(abandoned.length >= 5, `${abandoned.length} abandoned logins counted`);
});

test('Finding 1: logins parked by 8 addresses cannot fill the relay: each source gets a few checks, every login is answered, and a logged-in client still opens streams', async (t) => {
  // A relay-wide cap of 64 unauthenticated connections, so the test fills it with few sockets.
  const world = await startWorld(t, { relay: { guard: { maxUnauth: 64 } } });
  const echo = await echoServer(t);
  const secret = newSecret();
  await startTestSkeleton(t, world, [server('svc', echo.port, secret)], { pool: 0 });
  const client = await connectTestClient(t, world);
  const verifications = countVerifications(world.relay);
  const login = await junkLogin(t, world);
  // 8 addresses x 8 connections, each sending a Login and then waiting for its answer.
  const parked = await Promise.all(Array.from({ length: 64 }, async (_, i) => {
    const greeting = await greetFrom(t, world.clientTarget, 'client', `127.0.1.${10 + (i % 8)}`);
    if ('code' in greeting) return greeting.code;
    greeting.peer.send(login);
    const answer = await greeting.peer.next(15_000);
    return answer ? 'answered' : 'closed';
  }));
  t.log(`parked logins: ${JSON.stringify(parked.reduce<Record<string, number>>((m, a) => ({ ...m, [a]: (m[a] ?? 0) + 1 }), {}))}; ${verifications()} argon2 checks`);
  t.true(parked.every((a) => a === 'answered'), 'every login got an answer');
  // Sources take turns, and once 3 failures have earned a source its penalty its waiting logins are
  // refused without a check: about 3 checks per source (before: one per login, 64).
  t.true(verifications() <= 8 * 4, `${verifications()} argon2 checks`);
  // Now strangers hold every unauthenticated slot: 64 greeted connections that never log in.
  const holders = await Promise.all(Array.from({ length: 64 }, (_, i) => greetFrom(t, world.clientTarget, 'client', `127.0.2.${10 + (i % 8)}`)));
  t.true(holders.every((h) => 'hello' in h), 'the strangers hold the whole cap');
  t.is(world.relay.runtime.core.state.guard.unauthenticated, 64);
  // The client logged in from 127.0.0.1 before: its data connection is still admitted and joined.
  const stream = await client.open('svc', { secret });
  stream.end('ping');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  t.is(Buffer.concat(chunks).toString(), 'ping');
  for (const h of holders) h.peer.socket.destroy();
  await Promise.all(holders.map((h) => closedOf(h.peer.socket)));
});
