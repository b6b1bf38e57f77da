/**
 * Issue 13, finding 6 (every log line a peer can trigger is written once per cause): an Advertise flood of
 * disallowed ids, and connections from a penalised address, against a relay logging at info as in
 * production. Before, each refused id and each refused connection wrote a line (x6 the attacker's bytes).
 * Also the control message pacing that keeps a flood from taking the event loop: nothing is lost.
 */
import test from 'ava';
import { encodeFrame } from '../../shared/protocol/codec.js';
import { HandControl } from '../helpers/security-control.js';
import { LogWatch } from '../helpers/security-log.js';
import { greetFrom, loginFrom } from '../helpers/security-peer.js';
import { closed, RelayHarness, userRecord } from '../helpers/unit-relay.js';
import { connectTestClient, echoServer, newSecret, PASSWORD, server, startTestSkeleton, startWorld } from '../helpers/world.js';

const USERS = { alice: { roles: ['client' as const], access: ['*'] }, home: { roles: ['skeleton' as const], serve: ['home-*'] } };

test('Finding 6: 250 Advertise frames of 256 disallowed ids each write a handful of log lines, not 64,000, and every one is answered', async (t) => {
  const watch = new LogWatch('relay', 'info');
  const world = await startWorld(t, { users: USERS, log: watch.log });
  const login = await loginFrom(t, { target: world.skeletonTarget, port: 'skeleton', user: 'home', password: PASSWORD, localAddress: '127.0.0.3' });
  if (!login.ok) throw new Error(login.code);
  const control = new HandControl(login.session.keys, login.peer.reader);
  const servers = Array.from({ length: 256 }, (_, i) => ({ id: `x-${i}`, description: '', protocol: 'tcp' }));
  const before = watch.records.length;
  control.send(Buffer.concat(Array.from({ length: 250 }, (_, i) => control.seal({ t: 'advertise', id: i + 1, servers }))));
  for (let i = 1; i <= 250; i++) {
    const reply = await control.next();
    if (reply?.t !== 'advertised' || reply.id !== i || reply.rejected.length !== 256) return t.fail(`reply ${i}`);
  }
  const lines = watch.records.slice(before);
  const bytes = lines.reduce((n, r) => n + JSON.stringify(r).length, 0);
  t.log(`${lines.length} log lines (${bytes} bytes) for 250 x 256 refused ids`);
  t.true(lines.length <= 5, `${lines.length} lines: ${lines.map((r) => r.msg).join(', ')}`);
  const refused = lines.find((r) => r.msg === 'advertise refused');
  t.like(refused, { refused: 256, codes: { ERR_SERVER_ID_NOT_ALLOWED: 256 } }, 'the one line says what happened');
});

test('Finding 6 (churn): 200 Advertise frames that swap 64 allowed ids for 64 others each time write a dozen lines, not 25,600', async (t) => {
  const watch = new LogWatch('relay', 'info');
  const world = await startWorld(t, { log: watch.log });
  const login = await loginFrom(t, { target: world.skeletonTarget, port: 'skeleton', user: 'home', password: PASSWORD, localAddress: '127.0.0.3' });
  if (!login.ok) throw new Error(login.code);
  const control = new HandControl(login.session.keys, login.peer.reader);
  const set = (name: string) => Array.from({ length: 64 }, (_, i) => ({ id: `${name}-${i}`, description: '', protocol: 'tcp' }));
  const before = watch.records.length;
  control.send(Buffer.concat(Array.from({ length: 200 }, (_, i) => control.seal({ t: 'advertise', id: i + 1, servers: set(i % 2 === 0 ? 'a' : 'b') }))));
  for (let i = 1; i <= 200; i++) {
    const reply = await control.next();
    if (reply?.t !== 'advertised' || reply.id !== i || reply.accepted.length !== 64) return t.fail(`reply ${i}`);
  }
  const lines = watch.records.slice(before);
  t.log(`${lines.length} log lines for 200 advertises changing 128 ids each`);
  t.true(lines.length <= 12, `${lines.length} lines`);
  t.like(lines.find((r) => r.msg === 'servers advertised'), { servers: set('a').map((s) => s.id) }, 'the first change is logged whole');
});

test('Pacing: the sessions of one account share one budget', (t) => {
  const h = new RelayHarness({ controlBurst: 6, controlPerSecond: 10 });
  const record = userRecord(['client'], { access: ['*'] });
  const [one, two] = [h.login('carol', 'client', record), h.login('carol', 'client', record)];
  const other = h.login('dave', 'client', record);
  for (let i = 0; i < 3; i++) {
    t.false(h.control(one, { t: 'ping', n: i }).some((c) => c.type === 'pause-reading'));
    t.false(h.control(two, { t: 'ping', n: i }).some((c) => c.type === 'pause-reading'));
  }
  t.true(h.control(two, { t: 'ping', n: 3 }).some((c) => c.type === 'pause-reading'), 'the account has used its burst across both sessions');
  t.false(h.control(other, { t: 'ping', n: 0 }).some((c) => c.type === 'pause-reading'), 'another account is not affected');
});

test('Finding 6: 200 connections from a penalised address write one or two "connection refused" lines', async (t) => {
  const watch = new LogWatch('relay', 'info');
  const world = await startWorld(t, { log: watch.log });
  const guard = world.relay.runtime.core.state.guard;
  for (let i = 0; i < 4; i++) guard.penalize('127.0.0.4', 'auth-fail', Date.now());
  const answers = await Promise.all(Array.from({ length: 200 }, async () => {
    const greeting = await greetFrom(t, world.clientTarget, 'client', '127.0.0.4');
    greeting.peer.socket.destroy();
    return 'code' in greeting ? greeting.code : 'hello';
  }));
  t.true(answers.every((a) => a === 'ERR_THROTTLED'));
  const lines = watch.count('connection refused');
  t.log(`${lines} 'connection refused' lines for 200 refused connections`);
  t.true(lines >= 1 && lines <= 2);
});

test('Pacing: a session over its control message rate is read more slowly, never refused', (t) => {
  const h = new RelayHarness({ controlBurst: 5, controlPerSecond: 10 });
  const carol = h.login('carol', 'client', userRecord(['client'], { access: ['*'] }));
  for (let i = 0; i < 5; i++) t.false(h.control(carol, { t: 'ping', n: i }).some((c) => c.type === 'pause-reading'), `within the burst (${i})`);
  const over = h.control(carol, { t: 'ping', n: 5 });
  t.deepEqual(over.find((c) => c.type === 'pause-reading'), { type: 'pause-reading', conn: carol.conn, ms: 100 });
  t.false(closed(carol.conn, over));
  t.is(h.take(carol).filter((m) => m.t === 'pong').length, 6, 'every ping answered');
  // After a second the bucket is full again.
  h.now += 1000;
  t.false(h.control(carol, { t: 'ping', n: 6 }).some((c) => c.type === 'pause-reading'));
});

test('Pacing: 500 pings sent at once over a real socket all get their pong', async (t) => {
  const world = await startWorld(t, { relay: { limits: { controlBurst: 100, controlPerSecond: 400 } } });
  const login = await loginFrom(t, { target: world.clientTarget, port: 'client', user: 'alice', password: PASSWORD });
  if (!login.ok) throw new Error(login.code);
  const control = new HandControl(login.session.keys, login.peer.reader);
  control.send(Buffer.concat(Array.from({ length: 500 }, (_, i) => control.seal({ t: 'ping', n: i }))));
  for (let i = 0; i < 500; i++) {
    const pong = await control.next();
    if (pong?.t !== 'pong' || pong.n !== i) return t.fail(`pong ${i}: ${JSON.stringify(pong)}`);
  }
  t.pass();
});

test('Bounds: 40 streams opened with the wrong secret write one or two "stream refused" lines at the skeleton, not 40', async (t) => {
  const world = await startWorld(t);
  const echo = await echoServer(t);
  const skeletonLog = new LogWatch('skeleton', 'info');
  await startTestSkeleton(t, world, [server('svc', echo.port, newSecret())], { log: skeletonLog.log });
  const client = await connectTestClient(t, world);
  const codes = await Promise.all(Array.from({ length: 40 }, () => client.open('svc', { secret: newSecret() }).then(() => 'ok', (err: { code?: string }) => err.code)));
  t.true(codes.every((c) => c === 'ERR_E2E_HANDSHAKE_FAILED'), JSON.stringify(codes.slice(0, 3)));
  await skeletonLog.waitFor((r) => r.msg === 'stream refused');
  t.log(`${skeletonLog.count('stream refused')} 'stream refused' lines for 40 refused streams`);
  t.true(skeletonLog.count('stream refused') <= 2);
  t.is(echo.connections(), 0);
});

test('Bounds: garbage from 300 different addresses writes about 50 "bad frame" lines, not 300 (a budget per kind of line over all sources)', async (t) => {
  const watch = new LogWatch('relay', 'info');
  const world = await startWorld(t, { log: watch.log });
  const started = Date.now();
  await Promise.all(Array.from({ length: 300 }, async (_, i) => {
    const greeting = await greetFrom(t, world.clientTarget, 'client', `127.0.${40 + Math.floor(i / 200)}.${1 + (i % 200)}`);
    if (!('hello' in greeting)) return;
    greeting.peer.send(encodeFrame({ t: 'hello', v: 1 }));
    await greeting.peer.closed;
  }));
  const lines = watch.count('bad frame, closing connection');
  // 50 at once, then one per 200 ms.
  const allowed = 50 + Math.ceil((Date.now() - started) / 200);
  t.log(`${lines} 'bad frame' lines for 300 sources (budget ${allowed})`);
  t.true(lines >= 40 && lines <= allowed, `${lines} lines`);
});
