/**
 * The relay core in cluster mode, sans-IO: two cores wired by hand through the events the cluster adapter
 * would feed them. A cross-relay open, the ticket attach that completes it, what a ticket attach must prove,
 * the cluster-wide claim of an Advertise, and revocations.
 */
import test from 'ava';
import { attachMac } from '../../shared/crypto/attach-proof.js';
import { Redacted } from '../../shared/redacted.js';
import type { RelayCommand } from '../../relay/core/relay-events.js';
import { closed, plainTo, RelayHarness, userRecord, type Peer } from '../helpers/unit-relay.js';

const TICKET = 'aGVhZGVy.cGF5bG9hZA.c2ln';

function cmd<T extends RelayCommand['type']>(cmds: RelayCommand[], type: T): Extract<RelayCommand, { type: T }> {
  const found = cmds.find((c) => c.type === type);
  if (!found) throw new Error(`no ${type} among ${cmds.map((c) => c.type).join(', ')}`);
  return found as Extract<RelayCommand, { type: T }>;
}

function cluster(): { a: RelayHarness; b: RelayHarness; skeleton: Peer; client: Peer } {
  const a = new RelayHarness({}, { cluster: { relayId: 'a', advertise: 'relay-a:7001' } });
  const b = new RelayHarness({}, { cluster: { relayId: 'b', advertise: 'relay-b:7001' } });
  const skeleton = b.login('home', 'skeleton', userRecord(['skeleton'], { serve: ['*'] }));
  const adv = b.control(skeleton, { t: 'advertise', id: 1, servers: [{ id: 'echo', description: 'echo', protocol: 'tcp' }] });
  const claim = cmd(adv, 'cluster-claim');
  t0(claim.servers.map((s) => s.id), ['echo']);
  b.handle({ type: 'cluster-claimed', sid: skeleton.sid, request: 1, refused: [] });
  const client = a.login('alice', 'client', userRecord(['client'], { access: ['*'] }));
  return { a, b, skeleton, client };
}

function t0(actual: unknown, expected: unknown): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(`setup: ${JSON.stringify(actual)}`);
}

/** Drives a cross-relay open up to the skeleton's ticket attach at A; returns what A answered it. */
function crossOpen(w: ReturnType<typeof cluster>, proof: { key?: Buffer; sid?: string; user?: string } = {}) {
  const { a, b, skeleton, client } = w;
  const stream = a.attach(client, 'stream', { server: 'echo' });
  const open = cmd(stream.cmds, 'cluster-open');
  a.handle({ type: 'cluster-found', conn: stream.conn, dial: open.dial, holder: { relay: 'b', sid: skeleton.sid, user: 'home' } });
  const mint = cmd(b.handle({ type: 'remote-dial', dial: open.dial, server: 'echo', sid: skeleton.sid, origin: 'relay-a:7001' }), 'mint-ticket');
  b.handle({ type: 'ticket-minted', sid: mint.sid, purpose: mint.purpose, ticket: TICKET, exp: 0 });
  const dial = b.take(skeleton).find((m) => m.t === 'dial');
  const { conn, hello } = a.greet('skeleton');
  const claim = { sid: skeleton.sid, purpose: 'dial' as const, dial: open.dial };
  const verify = cmd(a.sendPlain(conn, { t: 'attach', ...claim, ticket: TICKET, mac: attachMac(skeleton.keys.attach, hello.challenge, claim) }), 'verify-ticket');
  const claims = { sid: proof.sid ?? skeleton.sid, user: proof.user ?? 'home', port: 'skeleton' as const, relay: 'b', exp: 0, attachKey: new Redacted(proof.key ?? mint.attachKey.reveal()) };
  const answer = a.handle({ type: 'ticket-verified', conn: verify.conn, claims });
  return { stream, dial, conn, answer, mintKey: mint.attachKey.reveal() };
}

test('cross-relay open: A asks the cluster, B has its skeleton dial A with a ticket, A joins it', (t) => {
  const w = cluster();
  const { stream, dial, conn, answer, mintKey } = crossOpen(w);
  t.true(mintKey.equals(w.skeleton.keys.attach));
  t.like(dial, { t: 'dial', server: 'echo', relay: 'relay-a:7001', ticket: TICKET });
  const splice = cmd(answer, 'splice');
  t.is(splice.client, stream.conn);
  t.is(splice.skeleton, conn);
  t.deepEqual(plainTo(stream.conn, answer), [{ t: 'joined' }]);
});

test('a ticket attach needs the MAC under the sealed key, the named session and a pending dial', (t) => {
  for (const proof of [{ key: Buffer.alloc(32, 7) }, { sid: 'someone-else' }, { user: 'mallory' }]) {
    const w = cluster();
    const { conn, answer } = crossOpen(w, proof);
    t.true(closed(conn, answer));
    t.false(answer.some((c) => c.type === 'splice'));
  }
  // A single relay refuses any ticket at once.
  const single = new RelayHarness();
  const { conn } = single.greet('skeleton');
  const cmds = single.sendPlain(conn, { t: 'attach', sid: 's', purpose: 'dial', dial: 'd', ticket: TICKET, mac: Buffer.alloc(32) });
  t.deepEqual(plainTo(conn, cmds), [{ t: 'error', code: 'ERR_AUTH_FAILED' }]);
});

test('no holder is ERR_UNKNOWN_SERVER; Redis down is ERR_CLUSTER_UNAVAILABLE; a failed publish is ERR_SERVER_UNREACHABLE', (t) => {
  const { a, client } = cluster();
  for (const [found, code] of [[{}, 'ERR_UNKNOWN_SERVER'], [{ unavailable: true }, 'ERR_CLUSTER_UNAVAILABLE']] as const) {
    const s = a.attach(client, 'stream', { server: 'echo' });
    const open = cmd(s.cmds, 'cluster-open');
    t.deepEqual(plainTo(s.conn, a.handle({ type: 'cluster-found', conn: s.conn, dial: open.dial, ...found })), [{ t: 'error', code }]);
  }
  const s = a.attach(client, 'stream', { server: 'echo' });
  const open = cmd(s.cmds, 'cluster-open');
  a.handle({ type: 'cluster-found', conn: s.conn, dial: open.dial, holder: { relay: 'b', sid: 'x', user: 'home' } });
  t.deepEqual(plainTo(s.conn, a.handle({ type: 'cluster-dial-failed', dial: open.dial, code: 'ERR_SERVER_UNREACHABLE' })), [{ t: 'error', code: 'ERR_SERVER_UNREACHABLE' }]);
  t.is(a.core.state.sessions.get(client.sid)?.streams, 0);
});

test('an id another account holds in the cluster is withdrawn and refused; a listing merges other relays', (t) => {
  const b = new RelayHarness({}, { cluster: { relayId: 'b', advertise: 'relay-b:7001' } });
  const skeleton = b.login('home', 'skeleton', userRecord(['skeleton'], { serve: ['*'] }));
  b.control(skeleton, { t: 'advertise', id: 5, servers: [{ id: 'one', description: '', protocol: 'tcp' }, { id: 'two', description: '', protocol: 'tcp' }] });
  t.deepEqual(b.take(skeleton), []);
  b.handle({ type: 'cluster-claimed', sid: skeleton.sid, request: 5, refused: [{ id: 'two', code: 'ERR_SERVER_ID_TAKEN' }] });
  t.deepEqual(b.take(skeleton), [{ t: 'advertised', id: 5, accepted: ['one'], rejected: [{ id: 'two', code: 'ERR_SERVER_ID_TAKEN' }] }]);
  t.deepEqual(b.core.state.registry.list().map((r) => r.info.id), ['one']);
  const client = b.login('alice', 'client', userRecord(['client'], { access: ['one', 'far'] }));
  const list = cmd(b.control(client, { t: 'list', id: 9 }), 'cluster-list');
  b.handle({ type: 'cluster-listed', sid: client.sid, request: list.request, servers: [{ id: 'far', description: '', protocol: 'tcp' }, { id: 'hidden', description: '', protocol: 'tcp' }] });
  t.deepEqual(b.take(client), [{ t: 'servers', id: 9, servers: [{ id: 'far', description: '', protocol: 'tcp' }, { id: 'one', description: '', protocol: 'tcp' }] }]);
  b.control(client, { t: 'list', id: 10 });
  b.handle({ type: 'cluster-listed', sid: client.sid, request: 10 });
  t.deepEqual(b.take(client), [{ t: 'error', id: 10, code: 'ERR_CLUSTER_UNAVAILABLE' }]);
});

test('a revoked account loses its sessions and cannot log in', (t) => {
  const { a, client } = cluster();
  const cmds = a.handle({ type: 'revoked', users: ['alice'] });
  t.true(closed(client.conn, cmds));
  t.is(a.core.state.sessions.size, 0);
  t.throws(() => a.login('alice', 'client', userRecord(['client'], { access: ['*'] })));
});

test('a publication waits for the cluster: not routed nor listened to before; refused by it, it is released and reported unpublished; confirmed, its port opens', (t) => {
  const b = new RelayHarness({}, { cluster: { relayId: 'b', advertise: 'relay-b:7001' }, ingress: { http: false, https: true, ports: [[20000, 20099]] } });
  const skeleton = b.login('home', 'skeleton', userRecord(['skeleton'], { serve: ['*'], publish: ['tcp:20000-20099', '*.home.example.net'] }));
  const publish = [{ server: 'web', url: 'tcp://:20050' }, { server: 'web', url: 'https://www.home.example.net' }];
  const adv = b.control(skeleton, { t: 'advertise', id: 1, servers: [{ id: 'web', description: '', protocol: 'tcp' }], publish });
  t.deepEqual(cmd(adv, 'cluster-claim').publications, ['tcp://:20050', 'https://www.home.example.net']);
  t.false(adv.some((c) => c.type === 'public-listen'));
  t.is(b.core.state.publications.resolveHost('https', 'www.home.example.net'), undefined);
  t.deepEqual(b.take(skeleton), []);
  const answer = b.handle({ type: 'cluster-claimed', sid: skeleton.sid, request: 1, refused: [], refusedPublications: [{ url: 'tcp://:20050', code: 'ERR_PUBLICATION_TAKEN' }] });
  t.false(answer.some((c) => c.type === 'public-listen' || c.type === 'public-unlisten'));
  t.deepEqual(b.take(skeleton), [{
    t: 'advertised', id: 1, accepted: ['web'], rejected: [], published: ['https://www.home.example.net'], unpublished: [{ url: 'tcp://:20050', code: 'ERR_PUBLICATION_TAKEN' }],
  }]);
  t.is(b.core.state.publications.get('tcp://:20050'), undefined);
  t.is(b.core.state.publications.resolveHost('https', 'www.home.example.net')?.user, 'home');
  // Asked again (the other account let go): only the url not yet confirmed goes to the cluster, and its port opens once confirmed.
  const again = b.control(skeleton, { t: 'advertise', id: 2, servers: [{ id: 'web', description: '', protocol: 'tcp' }], publish });
  t.deepEqual(cmd(again, 'cluster-claim').publications, ['tcp://:20050']);
  const confirmed = b.handle({ type: 'cluster-claimed', sid: skeleton.sid, request: 2, refused: [], refusedPublications: [] });
  t.deepEqual(cmd(confirmed, 'public-listen'), { type: 'public-listen', url: 'tcp://:20050', port: 20050 });
  t.like(b.take(skeleton)[0], { t: 'advertised', id: 2, published: ['tcp://:20050', 'https://www.home.example.net'], unpublished: [] });
  // Redis down: the new url is refused for now and was never listened to; the server id is refused too, and its live publications go with it.
  const more = [...publish, { server: 'web', url: 'tcp://:20051' }];
  b.control(skeleton, { t: 'advertise', id: 3, servers: [{ id: 'web', description: '', protocol: 'tcp' }], publish: more });
  const down = b.handle({
    type: 'cluster-claimed', sid: skeleton.sid, request: 3, refused: [{ id: 'web', code: 'ERR_CLUSTER_UNAVAILABLE' }], refusedPublications: [{ url: 'tcp://:20051', code: 'ERR_CLUSTER_UNAVAILABLE' }],
  });
  t.deepEqual(down.filter((c) => c.type === 'public-listen' || c.type === 'public-unlisten'), [{ type: 'public-unlisten', url: 'tcp://:20050', port: 20050 }]);
  const unavailable = (url: string) => ({ url, code: 'ERR_CLUSTER_UNAVAILABLE' });
  t.like(b.take(skeleton)[0], {
    t: 'advertised', id: 3, published: [], unpublished: [unavailable('tcp://:20051'), unavailable('tcp://:20050'), unavailable('https://www.home.example.net')],
  });
  t.deepEqual(b.core.state.publications.all(), []);
  t.is(b.core.state.publications.get('tcp://:20051'), undefined);
});

test('a url the cluster says another account owns (claimed while this relay could not reach Redis) is withdrawn here; a pending one waits for its claim', (t) => {
  const b = new RelayHarness({}, { cluster: { relayId: 'b', advertise: 'relay-b:7001' }, ingress: { http: false, https: false, ports: [[20000, 20099]] } });
  const skeleton = b.login('home', 'skeleton', userRecord(['skeleton'], { serve: ['*'], publish: ['tcp:20000-20099'] }));
  const servers = [{ id: 'web', description: '', protocol: 'tcp' }];
  b.control(skeleton, { t: 'advertise', id: 1, servers, publish: [{ server: 'web', url: 'tcp://:20050' }] });
  b.handle({ type: 'cluster-claimed', sid: skeleton.sid, request: 1, refused: [], refusedPublications: [] });
  b.control(skeleton, { t: 'advertise', id: 2, servers, publish: [{ server: 'web', url: 'tcp://:20050' }, { server: 'web', url: 'tcp://:20051' }] });
  b.take(skeleton);
  const out = b.handle({ type: 'cluster-publications-taken', urls: ['tcp://:20050', 'tcp://:20051'] });
  t.deepEqual(out.filter((c) => c.type === 'public-unlisten'), [{ type: 'public-unlisten', url: 'tcp://:20050', port: 20050 }]);
  t.deepEqual(b.take(skeleton), [{ t: 'withdrawn', servers: [], publications: ['tcp://:20050'], code: 'ERR_PUBLICATION_TAKEN' }]);
  t.is(b.core.state.publications.get('tcp://:20050'), undefined);
  t.true(b.core.state.publications.get('tcp://:20051')?.pending);
});
