/**
 * S5: an unknown user costs the relay the same time as a wrong password (argon2 against a dummy hash),
 * and every kind of auth failure gets the same bytes on the wire, then a close. Throttling is turned
 * off for this relay so every attempt reaches the password check.
 */
import test, { type ExecutionContext } from 'ava';
import { encodeFrame } from '../../shared/protocol/codec.js';
import { randomBytes } from 'node:crypto';
import { sealLogin } from '../../shared/crypto/login-token.js';
import { Redacted } from '../../shared/redacted.js';
import type { RawPeer } from '../helpers/security-net.js';
import { greetFrom, loginFrom } from '../helpers/security-peer.js';
import { PASSWORD, startWorld, type World } from '../helpers/world.js';

const AUTH_FAILED = encodeFrame({ t: 'error', code: 'ERR_AUTH_FAILED' }).subarray(4).toString('hex');
const hex = (frames: Buffer[]): string[] => frames.map((f) => f.toString('hex'));
const USERS = {
  alice: { roles: ['client' as const], access: ['*'] },
  home: { roles: ['skeleton' as const], serve: ['*'] },
  gone: { roles: ['client' as const], access: ['*'], disabled: true },
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** A refused login: the frames the relay sent before closing. */
async function refused(t: ExecutionContext, world: World, user: string, password: string): Promise<{ frames: Buffer[] }> {
  const outcome = await loginFrom(t, { target: world.clientTarget, port: 'client', user, password });
  if (outcome.ok) throw new Error(`${user} logged in`);
  return { frames: [outcome.frame, ...await outcome.peer.reader.rest()] };
}

/** A greeted connection with its Login frame sealed and ready, so sending it costs the client nothing. */
async function prepared(t: ExecutionContext, world: World, user: string, password: string): Promise<{ peer: RawPeer; login: Buffer }> {
  const greeting = await greetFrom(t, world.clientTarget, 'client');
  if (!('hello' in greeting)) throw new Error(`refused at once: ${greeting.code}`);
  const { hello, peer } = greeting;
  const jwe = await sealLogin(hello.eph, { user, password: new Redacted(password), challenge: hello.challenge, clientKey: new Redacted(randomBytes(32)), port: 'client' });
  return { peer, login: encodeFrame({ t: 'login', jwe }) };
}

/** Sends a prepared login; the relay's time to answer, and every frame it sent before closing. */
async function fire(attempt: { peer: RawPeer; login: Buffer }): Promise<{ ms: number; frames: Buffer[] }> {
  const started = process.hrtime.bigint();
  attempt.peer.send(attempt.login);
  const first = await attempt.peer.next(30_000);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, frames: [first!, ...await attempt.peer.reader.rest()] };
}

const UNOPENABLE = 'eyJhbGciOiJFQ0RILUVTIn0..aXY.Y3Q.dGFn';

test('S5: an unknown user costs the relay the same time as a wrong password, and both get byte-identical answers', async (t) => {
  const world = await startWorld(t, { users: USERS, relay: { argon2Concurrency: 2, guard: { penaltyMinMs: 1e9, userMaxFailures: 1e9 } } });
  const times = { unknown: [] as number[], wrongPassword: [] as number[] };
  // Each round prepares one of each, then sends both at once: the relay verifies them side by side (two
  // argon2 slots, pinned here whatever the core count), so machine load (other test files share the thread pool) hits both alike.
  for (let i = -1; i < 11; i++) {
    const unknown = await prepared(t, world, `nobody-${i}`, PASSWORD);
    const wrong = await prepared(t, world, 'alice', `wrong-${i}`);
    const [u, w] = await Promise.all([fire(unknown), fire(wrong)]);
    for (const [kind, r] of [['unknown', u], ['wrong password', w]] as const) {
      t.deepEqual(hex(r.frames), [AUTH_FAILED], `${kind} #${i}: one ERR_AUTH_FAILED frame, then the close`);
    }
    if (i < 0) continue; // warm-up
    times.unknown.push(u.ms);
    times.wrongPassword.push(w.ms);
  }
  const base = median(times.wrongPassword);
  const ratio = median(times.unknown) / base;
  t.log(`median ms: unknown ${median(times.unknown).toFixed(1)}, wrong password ${base.toFixed(1)}`);
  t.true(base > 5, `a wrong password costs an argon2 verification (${base.toFixed(1)} ms)`);
  t.true(ratio >= 0.6 && ratio <= 1.67, `unknown / wrong password = ${ratio.toFixed(2)}`);
});

test('S5: a login that does not open costs an argon2 verification too, and gets the same bytes', async (t) => {
  const world = await startWorld(t, { users: USERS, relay: { argon2Concurrency: 2, guard: { penaltyMinMs: 1e9, userMaxFailures: 1e9 } } });
  const times = { unopenable: [] as number[], wrongPassword: [] as number[] };
  for (let i = -1; i < 7; i++) {
    const greeting = await greetFrom(t, world.clientTarget, 'client');
    const garbage = { peer: greeting.peer, login: encodeFrame({ t: 'login', jwe: UNOPENABLE }) };
    const wrong = await prepared(t, world, 'alice', `wrong-${i}`);
    const [g, w] = await Promise.all([fire(garbage), fire(wrong)]);
    t.deepEqual(hex(g.frames), [AUTH_FAILED]);
    t.deepEqual(hex(w.frames), [AUTH_FAILED]);
    if (i < 0) continue;
    times.unopenable.push(g.ms);
    times.wrongPassword.push(w.ms);
  }
  const ratio = median(times.unopenable) / median(times.wrongPassword);
  t.log(`median ms: unopenable ${median(times.unopenable).toFixed(1)}, wrong password ${median(times.wrongPassword).toFixed(1)}`);
  // Looser: this path skips the JWE work, and an attacker learns nothing from a login they garbled themselves;
  // what matters is that it is not answered without the argon2 verification.
  t.true(ratio >= 0.4 && ratio <= 2.5, `unopenable / wrong password = ${ratio.toFixed(2)}`);
});

test('S5: a disabled account and an account without the role for the port get the same bytes as a wrong password', async (t) => {
  const world = await startWorld(t, { users: USERS });
  const answers = [
    await refused(t, world, 'alice', 'wrong'),
    await refused(t, world, 'gone', PASSWORD),
    await refused(t, world, 'home', PASSWORD),
  ];
  for (const a of answers) t.deepEqual(hex(a.frames), [AUTH_FAILED]);
  // The same accounts are otherwise fine: 'home' logs in on its own port.
  const ok = await loginFrom(t, { target: world.skeletonTarget, port: 'skeleton', user: 'home', password: PASSWORD, localAddress: '127.0.0.2' });
  t.true(ok.ok);
});
