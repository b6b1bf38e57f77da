/**
 * Issue 13, finding 3 (every state with a timer, penalties to whoever caused them): a client that ends
 * its session while its streams wait for dials. Its waiting connections close at once; the skeleton's
 * fresh data connections that arrive for those dials are kept for the next stream (or closed), never
 * left to time out, and the skeleton's address is never charged for what the client did.
 */
import test from 'ava';
import { HandControl } from '../helpers/security-control.js';
import { attachFrom, greetFrom, loginFrom, type HandSession } from '../helpers/security-peer.js';
import { stateReaches } from '../helpers/state-wait.js';
import { PASSWORD, startWorld } from '../helpers/world.js';

const SKELETON_ADDRESS = '127.0.0.3';
const CLIENT_ADDRESS = '127.0.0.5';

test('Finding 3: dials orphaned by a client that left close its waiting streams and charge nothing to the skeleton\'s address', async (t) => {
  // Dials never time out within the test: only the session's end may close the waiting streams.
  const world = await startWorld(t, { relay: { limits: { dialTimeoutMs: 120_000 } } });
  const { relay } = world;
  // A skeleton by hand, with no idle pool, so every open needs a Dial.
  const skel = await loginFrom(t, { target: world.skeletonTarget, port: 'skeleton', user: 'home', password: PASSWORD, localAddress: SKELETON_ADDRESS });
  const cli = await loginFrom(t, { target: world.clientTarget, port: 'client', user: 'alice', password: PASSWORD, localAddress: CLIENT_ADDRESS });
  if (!skel.ok || !cli.ok) throw new Error('login failed');
  const control = new HandControl(skel.session.keys, skel.peer.reader);
  control.send(control.seal({ t: 'advertise', id: 1, servers: [{ id: 'svc', description: 'svc', protocol: 'tcp' }] }));
  t.is((await control.next())?.t, 'advertised');
  // The client asks for 30 streams; the relay asks the skeleton for 30 dials.
  const waiting = await Promise.all(Array.from({ length: 30 }, () => attachFrom(t, world.clientTarget, 'client', cli.session, { purpose: 'stream', server: 'svc' }, CLIENT_ADDRESS)));
  const dials: string[] = [];
  while (dials.length < 30) {
    const msg = await control.next();
    if (msg?.t === 'dial') dials.push(msg.dial);
  }
  // The client leaves before the skeleton's connections arrive.
  const ended = new Promise<void>((resolve) => relay.runtime.on('note', (n: { kind: string; session?: string }) => {
    if (n.kind === 'session-ended' && n.session === (cli.session as HandSession).sid) resolve();
  }));
  cli.peer.socket.destroy();
  await ended;
  // Every waiting stream of the departed session is closed at once (before: left open forever).
  t.true(await stateReaches(() => waiting.every((w) => w.socket.closed)), 'the waiting streams closed');
  const answers = await Promise.all(waiting.map((w) => w.reader.rest()));
  t.true(answers.every((frames) => frames.length === 1), 'each got one error frame');
  // The skeleton answers its 30 dials with authenticated connections.
  const fresh = await Promise.all(dials.map((dial) => attachFrom(t, world.skeletonTarget, 'skeleton', skel.session, { purpose: 'dial', dial }, SKELETON_ADDRESS)));
  // Kept idle for the next stream (before: left in the handshake state, waiting for its timeout).
  t.true(await stateReaches(() => relay.runtime.core.state.sessions.get(skel.session.sid)?.pool.length === 30), 'the 30 fresh connections are pooled');
  // Time passes beyond the handshake timeout (the core's clock, one tick 15 s ahead).
  relay.runtime.run(relay.runtime.core.handle({ type: 'tick' }, Date.now() + 15_000));
  t.false(relay.runtime.core.state.guard.throttled(SKELETON_ADDRESS, Date.now()), 'the skeleton\'s address is not penalised');
  t.is(relay.runtime.core.state.guard.penalised(Date.now()), 0);
  const again = await greetFrom(t, world.skeletonTarget, 'skeleton', SKELETON_ADDRESS);
  t.true('hello' in again, 'the skeleton\'s address is still greeted');
  for (const f of fresh) f.socket.destroy();
});
