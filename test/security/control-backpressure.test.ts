/**
 * Issue 13, finding 2 (every socket the relay writes to has backpressure): a logged-in peer that sends
 * requests and never reads the replies. The relay stops reading it instead of buffering the replies, loses
 * none of them once the peer reads again, and cuts a peer that leaves more than SEND_QUEUE_LIMIT unread.
 */
import test from 'ava';
import { once } from 'node:events';
import { silentLogger } from '../../shared/log.js';
import { encodeFrame } from '../../shared/protocol/codec.js';
import { RelayConnection, SEND_QUEUE_LIMIT } from '../../relay/io/relay-connection.js';
import { pair } from '../helpers/loopback.js';
import { HandControl } from '../helpers/security-control.js';
import { LogWatch } from '../helpers/security-log.js';
import { loginFrom } from '../helpers/security-peer.js';
import { PASSWORD, startWorld } from '../helpers/world.js';

const REQUESTS = 2000;

function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

test('Finding 2: a client that asks for 2,000 listings (~33 MB of replies) and reads none holds < 256 KiB at the relay, then gets all 2,000', async (t) => {
  const watch = new LogWatch('relay', 'debug');
  // Pacing off: this test is about what the relay holds for a peer that does not read.
  const world = await startWorld(t, { log: watch.log, relay: { limits: { controlBurst: 10_000 } } });
  const skel = await loginFrom(t, { target: world.skeletonTarget, port: 'skeleton', user: 'home', password: PASSWORD, localAddress: '127.0.0.3' });
  const cli = await loginFrom(t, { target: world.clientTarget, port: 'client', user: 'alice', password: PASSWORD });
  if (!skel.ok || !cli.ok) throw new Error('login failed');
  const skeleton = new HandControl(skel.session.keys, skel.peer.reader);
  const servers = Array.from({ length: 64 }, (_, i) => ({ id: `svc-${i}`, description: 'd'.repeat(200), protocol: 'tcp' }));
  skeleton.send(skeleton.seal({ t: 'advertise', id: 1, servers }));
  t.is((await skeleton.next())?.t, 'advertised');
  const client = new HandControl(cli.session.keys, cli.peer.reader);
  // Stop reading, then ask for everything at once.
  cli.peer.socket.pause();
  const rssBefore = process.memoryUsage().rss;
  client.send(Buffer.concat(Array.from({ length: REQUESTS }, (_, i) => client.seal({ t: 'list', id: i + 1 }))));
  const paused = await within(watch.waitFor((r) => r.msg.startsWith('peer is not reading its replies')), 10_000);
  t.truthy(paused, 'the relay stopped reading the peer');
  const unsent = world.relay.runtime.unsentBytes();
  const grown = process.memoryUsage().rss - rssBefore;
  t.log(`relay holds ${unsent} unsent bytes; process RSS grew ${(grown / 1048576).toFixed(1)} MiB`);
  t.true(unsent < 256 * 1024, `${unsent} bytes unsent at the relay`);
  t.true(grown < 64 * 1048576, `RSS grew ${grown} bytes`);
  // Nothing lost: reading again, the peer gets every reply, in order.
  cli.peer.socket.resume();
  for (let i = 1; i <= REQUESTS; i++) {
    const reply = await client.next();
    if (reply?.t !== 'servers' || reply.id !== i || reply.servers.length !== 64) return t.fail(`reply ${i}: ${JSON.stringify(reply)?.slice(0, 80)}`);
  }
  t.pass();
});

test('Finding 2: a peer that leaves more than SEND_QUEUE_LIMIT unsent is cut', async (t) => {
  const { a, b } = await pair(t);
  a.pause();
  const conn = new RelayConnection(1, 'skeleton', b, silentLogger(), () => undefined);
  const big = encodeFrame({ t: 'error', code: 'ERR_LIMIT', pad: Buffer.alloc(60_000) });
  const closed = once(b, 'close');
  // The kernel takes a few MB first; then the relay's own queue passes the limit and the peer is cut.
  let sent = 0;
  while (!b.destroyed && sent < 64 * 1048576) {
    conn.send(big);
    sent += big.length;
    t.true(b.destroyed || b.writableLength <= SEND_QUEUE_LIMIT + big.length);
  }
  await closed;
  t.true(b.destroyed);
  t.log(`cut after ${(sent / 1048576).toFixed(1)} MiB written`);
});
