/**
 * S9 (names are owned), S11 (no oracle) and S10 (masking both ways, PROXY protocol only on opt-in and
 * relay permission). Clients dial the relay from 127.0.0.2 and skeletons from 127.0.0.3 (through
 * forwarders), so each address is recognisable wherever it might leak.
 */
import test, { type ExecutionContext } from 'ava';
import type { Socket } from 'node:net';
import { connect, type BurrowClient } from '../../client/index.js';
import { attachData } from '../../shared/peer/data-connection.js';
import { login } from '../../shared/peer/peer-login.js';
import { decodeBody, encodeBody, FrameDecoder } from '../../shared/protocol/codec.js';
import { Redacted } from '../../shared/redacted.js';
import type { SkeletonServer } from '../../skeleton/index.js';
import { HandControl } from '../helpers/security-control.js';
import { LogWatch } from '../helpers/security-log.js';
import { FrameReader, recordingForwarder, type Forwarder } from '../helpers/security-net.js';
import { sendAndCollect } from '../helpers/streams.js';
import { listenLocal, newSecret, PASSWORD, server, startTestSkeleton, startWorld, type World } from '../helpers/world.js';

const USERS = {
  alice: { roles: ['client' as const], access: ['echo', 'pub-*'] },
  home: { roles: ['skeleton' as const], serve: ['*'] },
  intruder: { roles: ['skeleton' as const], serve: ['*'] },
  limited: { roles: ['skeleton' as const], serve: ['only-*'] },
};
const secret = newSecret();

/** A home server that greets each connection with its tag, then echoes; remembers what it got and from where. */
async function taggedServer(t: ExecutionContext, tag: string): Promise<{ port: number; seen: { from: string; bytes: Buffer[]; ended: Promise<void> }[] }> {
  const seen: { from: string; bytes: Buffer[]; ended: Promise<void> }[] = [];
  const { port } = await listenLocal(t, (socket: Socket) => {
    const entry = { from: socket.remoteAddress ?? '', bytes: [] as Buffer[], ended: new Promise<void>((resolve) => socket.once('end', () => resolve())) };
    seen.push(entry);
    socket.on('error', () => socket.destroy());
    socket.on('data', (c: Buffer) => entry.bytes.push(c));
    socket.write(tag);
    socket.pipe(socket);
  });
  return { port, seen };
}

async function openAs(t: ExecutionContext, world: World, relayPort = world.clientTarget.port): Promise<BurrowClient> {
  const client = await connect({ relay: { ...world.clientTarget, port: relayPort }, user: 'alice', password: new Redacted(PASSWORD) });
  t.teardown(() => client.close());
  return client;
}

async function reach(client: BurrowClient, id: string, data = 'x'): Promise<string> {
  return (await sendAndCollect(await client.open(id, { secret }), Buffer.from(data))).toString();
}

test('S9: another account advertising a live id is refused ERR_SERVER_ID_TAKEN and the owner keeps serving', async (t) => {
  const world = await startWorld(t, { users: USERS });
  const owner = await taggedServer(t, 'owner:');
  const thief = await taggedServer(t, 'thief:');
  const first = await startTestSkeleton(t, world, [server('echo', owner.port, secret)]);
  t.deepEqual(first.advertised, { accepted: ['echo'], rejected: [], published: [], unpublished: [] });
  const second = await startTestSkeleton(t, world, [server('echo', thief.port, secret), server('pub-thief', thief.port, secret)], { user: 'intruder' });
  t.deepEqual(second.advertised, { accepted: ['pub-thief'], rejected: [{ id: 'echo', code: 'ERR_SERVER_ID_TAKEN' }], published: [], unpublished: [] });
  const client = await openAs(t, world);
  t.is(await reach(client, 'echo'), 'owner:x');
  t.is(await reach(client, 'pub-thief'), 'thief:x', 'the intruder is a working skeleton, just not for that id');
  t.is(owner.seen.length, 1);
});

test('S9: the same skeleton (account and instance) reconnecting takes its id over at once, and the stale session ending later does not free it', async (t) => {
  const watch = new LogWatch();
  const world = await startWorld(t, { users: USERS, log: watch.log });
  const before = await taggedServer(t, 'old:');
  const after = await taggedServer(t, 'new:');
  // One skeleton process keeps its instance token across its sessions; two starts here stand for its two sessions.
  const stale = await startTestSkeleton(t, world, [server('echo', before.port, secret)], { instance: 'home-1' });
  const client = await openAs(t, world);
  t.is(await reach(client, 'echo'), 'old:x');
  const fresh = await startTestSkeleton(t, world, [server('echo', after.port, secret)], { instance: 'home-1' });
  t.deepEqual(fresh.advertised, { accepted: ['echo'], rejected: [], published: [], unpublished: [] });
  t.is(await reach(client, 'echo'), 'new:x', 'taken over at once, while the stale session still lives');
  const [staleSid] = watch.records.filter((r) => r.msg === 'logged in' && r.user === 'home').map((r) => r.session as string);
  await stale.close();
  const ended = await watch.sessionEnded(staleSid!);
  t.deepEqual(ended.freed, [], 'the stale session held nothing any more');
  t.is(await reach(client, 'echo'), 'new:x');
  t.is(before.seen.length, 1);
});

test('S9: an id outside the account\'s serve patterns is refused ERR_SERVER_ID_NOT_ALLOWED', async (t) => {
  const world = await startWorld(t, { users: USERS });
  const target = await taggedServer(t, 't:');
  const skeleton = await startTestSkeleton(t, world, [server('only-mine', target.port, secret), server('echo', target.port, secret)], { user: 'limited' });
  t.deepEqual(skeleton.advertised, { accepted: ['only-mine'], rejected: [{ id: 'echo', code: 'ERR_SERVER_ID_NOT_ALLOWED' }], published: [], unpublished: [] });
  t.is(world.relay.runtime.core.state.registry.get('echo'), undefined, 'echo stays free');
});

/** The first `n` relay frames of a data connection (after them come raw stream bytes). */
function firstFrames(bytes: Buffer, n: number): unknown[] {
  const decoder = new FrameDecoder(1 << 20);
  decoder.append(bytes);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const body = decoder.next();
    if (body) out.push(decodeBody(body));
  }
  return out;
}

test('S11: an id outside the client\'s access is not listed, and opening it gets the very bytes a missing id gets', async (t) => {
  const world = await startWorld(t, { users: USERS });
  const target = await taggedServer(t, 't:');
  await startTestSkeleton(t, world, [server('echo', target.port, secret), server('hidden', target.port, secret)]);
  const client = await openAs(t, world);
  t.deepEqual((await client.list()).map((s) => s.id), ['echo']);
  const session = await login(world.clientTarget, 'client', { user: 'alice', password: new Redacted(PASSWORD) });
  t.teardown(() => session.channel.socket.destroy());
  const answers: Buffer[][] = [];
  for (const id of ['hidden', 'pub-missing', 'missing']) {
    const { socket, channel } = await attachData(world.clientTarget, 'client', session, { purpose: 'stream', server: id });
    const reader = new FrameReader(socket, { leftover: channel.detach() });
    socket.on('end', () => socket.end());
    answers.push(await reader.rest());
  }
  t.deepEqual(answers[0], [encodeBody({ t: 'error', code: 'ERR_UNKNOWN_SERVER' })]);
  t.deepEqual(answers[1], answers[0]);
  t.deepEqual(answers[2], answers[0]);
  t.is(target.seen.length, 0);
});

interface MaskedWorld {
  world: World;
  clientSide: Forwarder;
  skeletonSide: Forwarder;
  client: BurrowClient;
}

/** A relay with clients arriving from 127.0.0.2 and the skeleton from 127.0.0.3. */
async function maskedWorld(t: ExecutionContext, servers: SkeletonServer[], allowProxyProtocol: boolean): Promise<MaskedWorld> {
  const world = await startWorld(t, { users: USERS, relay: { allowProxyProtocol } });
  const clientSide = await recordingForwarder(t, world.clientTarget.port, { localAddress: '127.0.0.2' });
  const skeletonSide = await recordingForwarder(t, world.skeletonTarget.port, { localAddress: '127.0.0.3' });
  const skeleton = await startTestSkeleton(t, { ...world, skeletonTarget: { ...world.skeletonTarget, port: skeletonSide.port } }, servers);
  t.deepEqual(skeleton.advertised.rejected, []);
  return { world, clientSide, skeletonSide, client: await openAs(t, world, clientSide.port) };
}

/** Every Bind the skeleton received, as decoded (not validated) maps. */
function bindsSeen(skeletonSide: Forwarder): Record<string, unknown>[] {
  return skeletonSide.captures.slice(1)
    .map((c) => firstFrames(Buffer.concat(c.down), 2)[1] as Record<string, unknown> | undefined)
    .filter((m): m is Record<string, unknown> => m?.t === 'bind');
}

test('S10: a listing carries only id, description and protocol: no address, port or account of the skeleton', async (t) => {
  const target = await taggedServer(t, 't:');
  const { world } = await maskedWorld(t, [server('echo', target.port, secret, { description: 'the echo', protocol: 'http' })], false);
  const control = HandControl.fromSession(await login(world.clientTarget, 'client', { user: 'alice', password: new Redacted(PASSWORD) }));
  control.send(control.seal({ t: 'list', id: 1 }));
  const raw = await control.nextRaw() as { t: string; servers: Record<string, unknown>[] };
  t.is(raw.t, 'servers');
  t.deepEqual(raw.servers, [{ id: 'echo', description: 'the echo', protocol: 'http' }]);
  const text = JSON.stringify(raw);
  for (const leak of ['127.0.0.3', '127.0.0.1', String(target.port), 'home']) t.false(text.includes(leak), leak);
});

test('S10: without PROXY protocol the home server sees only the skeleton, and no Bind carries the client address', async (t) => {
  const target = await taggedServer(t, 't:');
  const { client, clientSide, skeletonSide } = await maskedWorld(t, [server('echo', target.port, secret)], true);
  t.is(await reach(client, 'echo', 'payload'), 't:payload');
  await target.seen[0]!.ended;
  t.is(target.seen.length, 1);
  t.is(target.seen[0]!.from, '127.0.0.1', 'the connection comes from the skeleton');
  t.deepEqual(Buffer.concat(target.seen[0]!.bytes), Buffer.from('payload'), 'no header: the first bytes are the stream data');
  const binds = bindsSeen(skeletonSide);
  t.deepEqual(binds, [{ t: 'bind', server: 'echo' }]);
  t.false(skeletonSide.all().includes(Buffer.from('127.0.0.2')), 'the client address never reaches the skeleton');
  t.false(clientSide.all().includes(Buffer.from('127.0.0.3')), 'the skeleton address never reaches the client');
});

/** The client's data connection as the relay saw it: from 127.0.0.2 at the forwarder's port, to the relay's client port. */
function clientEndpoint(m: MaskedWorld): { srcPort: number; dstPort: number } {
  const data = m.clientSide.captures.at(-1)!;
  return { srcPort: data.upstreamLocalPort!, dstPort: m.world.clientTarget.port };
}

test('S10: a server opted in to PROXY v2 on a relay that allows it gets a v2 header with the client address, then the data', async (t) => {
  const target = await taggedServer(t, 't:');
  const m = await maskedWorld(t, [server('echo', target.port, secret, { proxy: 'v2' })], true);
  // The server echoes what it got, header included.
  t.true((await reach(m.client, 'echo', 'payload')).endsWith('payload'));
  await target.seen[0]!.ended;
  const got = Buffer.concat(target.seen[0]!.bytes);
  const { srcPort, dstPort } = clientEndpoint(m);
  t.true(srcPort > 0);
  const header = Buffer.concat([
    Buffer.from('0d0a0d0a000d0a515549540a', 'hex'), Buffer.from([0x21, 0x11, 0x00, 0x0c]),
    Buffer.from([127, 0, 0, 2]), Buffer.from([127, 0, 0, 1]), Buffer.from([srcPort >> 8, srcPort & 0xff, dstPort >> 8, dstPort & 0xff]),
  ]);
  t.deepEqual(got.subarray(0, header.length).toString('hex'), header.toString('hex'));
  t.deepEqual(got.subarray(header.length), Buffer.from('payload'));
  t.deepEqual(bindsSeen(m.skeletonSide), [{ t: 'bind', server: 'echo', proxy: { src: '127.0.0.2', srcPort, dst: '127.0.0.1', dstPort } }]);
});

test('S10: a server opted in to PROXY v1 on a relay that allows it gets a v1 line with the client address, then the data', async (t) => {
  const target = await taggedServer(t, 't:');
  const m = await maskedWorld(t, [server('echo', target.port, secret, { proxy: 'v1' })], true);
  t.true((await reach(m.client, 'echo', 'payload')).endsWith('payload'));
  await target.seen[0]!.ended;
  const { srcPort, dstPort } = clientEndpoint(m);
  t.is(Buffer.concat(target.seen[0]!.bytes).toString('latin1'), `PROXY TCP4 127.0.0.2 127.0.0.1 ${srcPort} ${dstPort}\r\npayload`);
});

test('S10: a relay that does not allow PROXY protocol refuses a server asking for it with ERR_PROXY_NOT_ALLOWED', async (t) => {
  const world = await startWorld(t, { users: USERS });
  const target = await taggedServer(t, 't:');
  const skeleton = await startTestSkeleton(t, world, [
    server('pub-v1', target.port, secret, { proxy: 'v1' }), server('pub-v2', target.port, secret, { proxy: 'v2' }), server('echo', target.port, secret),
  ]);
  t.deepEqual(skeleton.advertised, {
    accepted: ['echo'], rejected: [{ id: 'pub-v1', code: 'ERR_PROXY_NOT_ALLOWED' }, { id: 'pub-v2', code: 'ERR_PROXY_NOT_ALLOWED' }], published: [], unpublished: [],
  });
  const client = await openAs(t, world);
  t.deepEqual((await client.list()).map((s) => s.id), ['echo']);
});
