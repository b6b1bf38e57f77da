/**
 * Issue 13, finding 4 (every size a peer can drive): a listing that would not fit one control frame. One
 * skeleton account at its limits (32 sessions x 64 ids, 200-character descriptions of 3-byte characters:
 * ~1.3 MB of listing) must not break `client list` for anyone: the relay answers in pages that each fit.
 */
import test from 'ava';
import { encodeBody, frame } from '../../shared/protocol/codec.js';
import { FRAME_LIMITS } from '../../shared/protocol/messages.js';
import { MAX_SERVERS_PER_MESSAGE } from '../../shared/protocol/parse.js';
import { ControlSealer } from '../../shared/crypto/control-cipher.js';
import { listingPage } from '../../relay/core/listing-page.js';
import { DEFAULT_RELAY_LIMITS } from '../../relay/core/relay-limits.js';
import { HandControl } from '../helpers/security-control.js';
import { loginFrom } from '../helpers/security-peer.js';
import { connectTestClient, PASSWORD, startWorld } from '../helpers/world.js';

const DESCRIPTION = '€'.repeat(200);

test('Finding 4: 32 skeleton sessions x 64 ids with 600-byte descriptions: client list returns all 2,048, in pages that fit a frame', async (t) => {
  const world = await startWorld(t);
  const { maxSessionsPerUser, maxServersPerSkeleton } = DEFAULT_RELAY_LIMITS;
  for (let s = 0; s < maxSessionsPerUser; s++) {
    const login = await loginFrom(t, { target: world.skeletonTarget, port: 'skeleton', user: 'home', password: PASSWORD, localAddress: '127.0.0.3' });
    if (!login.ok) throw new Error(`login ${s}: ${login.code}`);
    const control = new HandControl(login.session.keys, login.peer.reader);
    const servers = Array.from({ length: maxServersPerSkeleton }, (_, i) => ({ id: `s${String(s).padStart(2, '0')}-${String(i).padStart(2, '0')}`, description: DESCRIPTION, protocol: 'http' }));
    control.send(control.seal({ t: 'advertise', id: 1, servers }));
    const reply = await control.next();
    if (reply?.t !== 'advertised' || reply.accepted.length !== maxServersPerSkeleton) throw new Error(`advertise ${s}: ${JSON.stringify(reply)}`);
  }
  const client = await connectTestClient(t, world);
  const servers = await client.list();
  t.is(servers.length, maxSessionsPerUser * maxServersPerSkeleton);
  t.true(servers.every((s) => s.description === DESCRIPTION && s.protocol === 'http'));
  t.deepEqual(servers.map((s) => s.id), servers.map((s) => s.id).sort(), 'in id order, none twice');
  t.is(new Set(servers.map((s) => s.id)).size, servers.length);
});

test('Finding 4: the fullest page (256 servers with every field at its longest, 4-byte characters) seals under the control frame limit', (t) => {
  const widest = Array.from({ length: 2 * MAX_SERVERS_PER_MESSAGE }, (_, i) => ({
    id: `${String(i).padStart(4, '0')}${'x'.repeat(59)}`, description: '𝄞'.repeat(100), protocol: 'p'.repeat(32),
  }));
  const sealer = new ControlSealer(Buffer.alloc(32, 1));
  let after: string | undefined;
  let total = 0;
  for (let pages = 0; pages < 100; pages++) {
    const page = listingPage(widest, after, () => true);
    const bytes = frame(sealer.seal(encodeBody({ t: 'servers', id: 0xffffffff, ...page }))).length;
    t.true(bytes <= FRAME_LIMITS.control + 4, `page of ${page.servers.length}: ${bytes} bytes`);
    total += page.servers.length;
    if (!page.next) break;
    after = page.next;
  }
  t.is(total, widest.length);
});

test('Finding 4: the largest Advertised reply (256 refused ids of 63 characters, the longest code) seals under the control frame limit', (t) => {
  const sealer = new ControlSealer(Buffer.alloc(32, 1));
  const rejected = Array.from({ length: MAX_SERVERS_PER_MESSAGE }, (_, i) => ({ id: `${String(i).padStart(4, '0')}${'y'.repeat(59)}`, code: 'ERR_SERVER_ID_NOT_ALLOWED' }));
  const bytes = frame(sealer.seal(encodeBody({ t: 'advertised', id: 0xffffffff, accepted: [], rejected }))).length;
  t.log(`${bytes} bytes`);
  t.true(bytes <= FRAME_LIMITS.control + 4);
});
