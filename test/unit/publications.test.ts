import test from 'ava';
import { GONE_MS, MAX_GONE, MAX_GONE_PER_ACCOUNT, PublicationRegistry } from '../../relay/core/publication-registry.js';
import { parsePortRanges } from '../../relay/public/port-ranges.js';
import { grantCovers, grantProblem } from '../../relay/users/publish-grant.js';
import { parseUserRecord } from '../../relay/users/user-record.js';
import { parsePublicationUrl, publicationUrl } from '../../shared/protocol/publication-url.js';
import { parsePeerControl } from '../../shared/protocol/parse.js';
import { parsePublishSpec } from '../../skeleton/publish-spec.js';
import { throwsCode } from '../helpers/unit-errors.js';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g';

test('publication urls have one spelling: lower-case host, no trailing dot, tcp ports 1-65535', (t) => {
  t.deepEqual(parsePublicationUrl('HTTPS://WWW.Home.Example.NET.'), { kind: 'https', host: 'www.home.example.net' });
  t.is(publicationUrl({ kind: 'http', host: '*.home.example.net' }), 'http://*.home.example.net');
  t.deepEqual(parsePublicationUrl('tcp://:25'), { kind: 'tcp', port: 25 });
  for (const bad of ['tcp://:0', 'tcp://:70000', 'tcp://host:25', 'http://a_b.example', 'http://x.example:80', 'udp2://:1', 'http://*.', 'http://a.*.b']) {
    t.is(typeof parsePublicationUrl(bad), 'string', bad);
  }
});

test('grants: port ranges by kind; *.zone covers every name below it and its wildcards, never the zone itself', (t) => {
  const web = { kind: 'http' as const, host: 'www.home.example.net' };
  t.true(grantCovers('*.home.example.net', web));
  t.true(grantCovers('*.home.example.net', { kind: 'https', host: 'a.b.home.example.net' }));
  t.true(grantCovers('*.home.example.net', { kind: 'https', host: '*.blog.home.example.net' }));
  t.false(grantCovers('*.home.example.net', { kind: 'http', host: 'home.example.net' }));
  t.false(grantCovers('*.home.example.net', { kind: 'http', host: 'evilhome.example.net' }));
  t.true(grantCovers('www.home.example.net', web));
  t.false(grantCovers('www.home.example.net', { kind: 'http', host: 'api.home.example.net' }));
  t.true(grantCovers('tcp:20000-20099', { kind: 'tcp', port: 20099 }));
  t.false(grantCovers('tcp:20000-20099', { kind: 'tcp', port: 20100 }));
  t.false(grantCovers('udp:25', { kind: 'tcp', port: 25 }));
  for (const bad of ['tcp:0', 'tcp:20-10', 'ftp:21', 'tcp:1-70000', 'a..b', '*']) t.truthy(grantProblem(bad), bad);
  t.is(grantProblem('udp:5353'), undefined);
});

test('the users file checks publish grants and gives them to skeleton accounts only', (t) => {
  t.like(parseUserRecord({ hash: HASH, roles: ['skeleton'], publish: ['tcp:25', '*.home.example.net'] }), { publish: ['tcp:25', '*.home.example.net'] });
  t.regex(String(parseUserRecord({ hash: HASH, roles: ['skeleton'], publish: ['tcp:99999'] })), /^publish: /);
  t.regex(String(parseUserRecord({ hash: HASH, roles: ['client'], publish: ['tcp:25'] })), /^publish: only a skeleton/);
});

test('--publish specs: url, repeated allow/deny, max-conns, rate, forwarded for http only', (t) => {
  t.deepEqual(parsePublishSpec('home-web=http://WWW.home.example.net,forwarded,allow=10.0.0.0/8,allow=2001:db8::/32,deny=10.1.0.0/16,max-conns=50,rate=5'), {
    server: 'home-web', url: 'http://www.home.example.net', forwarded: true, allow: ['10.0.0.0/8', '2001:db8::/32'], deny: ['10.1.0.0/16'], maxConns: 50, rate: 5,
  });
  for (const bad of ['home-web', 'home-web=ftp://x', 'home-mail=tcp://:25,forwarded', 'a=tcp://:25,allow=10.0.0.0/33', 'a=tcp://:25,rate=0', 'a=tcp://:25,colour=red']) {
    t.true('problem' in parsePublishSpec(bad), bad);
  }
});

test('--public-ports: single ports and ranges; anything else names the bad part', (t) => {
  t.deepEqual(parsePortRanges('25, 587,20000-20999'), [[25, 25], [587, 587], [20000, 20999]]);
  for (const bad of ['0', '20-10', '1-70000', 'http']) throwsCode(t, () => parsePortRanges(bad), 'ERR_CONFIG');
});

test('an Advertise carrying a publication that is not in canonical form, or with a bad field, is a malformed frame', (t) => {
  const base = { t: 'advertise', id: 1, servers: [] };
  t.deepEqual(parsePeerControl({ ...base, publish: [{ server: 'a', url: 'tcp://:25', deny: ['10.0.0.0/8'] }] }), { ...base, publish: [{ server: 'a', url: 'tcp://:25', deny: ['10.0.0.0/8'] }] } as never);
  for (const pub of [{ server: 'a', url: 'HTTP://X.example' }, { server: 'a', url: 'tcp://:25', forwarded: false }, { server: 'a', url: 'tcp://:25', extra: 1 }, { server: 'a', url: 'tcp://:25', allow: ['x'.repeat(60)] }]) {
    throwsCode(t, () => parsePeerControl({ ...base, publish: [pub] }), 'ERR_MALFORMED_FRAME');
  }
});

test('publication registry: one account per url, its sessions share it, the last to let go frees it; hosts exact first, then the wildcard one label up', (t) => {
  const reg = new PublicationRegistry();
  const claim = (url: string, sid: string, user: string) => reg.claim({ server: 's', url }, parsePublicationUrl(url) as never, sid, user, 0);
  t.deepEqual(claim('https://*.home.example.net', 'a1', 'home'), { ok: true, fresh: true });
  t.deepEqual(claim('https://*.home.example.net', 'a2', 'home'), { ok: true, fresh: false });
  t.deepEqual(claim('https://*.home.example.net', 'b1', 'other'), { ok: false, code: 'ERR_PUBLICATION_TAKEN' });
  t.deepEqual(claim('https://www.home.example.net', 'b1', 'other'), { ok: true, fresh: true });
  t.is(reg.resolveHost('https', 'www.home.example.net')?.user, 'other');
  t.is(reg.resolveHost('https', 'blog.home.example.net')?.user, 'home');
  t.is(reg.resolveHost('https', 'a.blog.home.example.net'), undefined);
  t.is(reg.resolveHost('https', 'home.example.net'), undefined);
  t.is(reg.resolveHost('http', 'blog.home.example.net'), undefined);
  // A second session of the account pointing the url at another server: the newest applies, and when it
  // leaves the url points at the remaining holder's server again.
  t.deepEqual(reg.claim({ server: 'other-server', url: 'https://*.home.example.net' }, parsePublicationUrl('https://*.home.example.net') as never, 'a3', 'home', 0), { ok: true, fresh: false });
  t.is(reg.get('https://*.home.example.net')?.server, 'other-server');
  t.false(reg.release('https://*.home.example.net', 'a3'));
  t.is(reg.get('https://*.home.example.net')?.server, 's');
  t.false(reg.release('https://*.home.example.net', 'a1'));
  t.true(reg.release('https://*.home.example.net', 'a2'));
  t.deepEqual(claim('https://*.home.example.net', 'b1', 'other'), { ok: true, fresh: true });
});

test('a shared-port name its skeleton let go is gone for now (GONE_MS), matched as routing matches; a revoked one and a tcp port are not; claiming it again forgets it; at most MAX_GONE_PER_ACCOUNT per account and MAX_GONE in all are kept', (t) => {
  const reg = new PublicationRegistry();
  const claim = (url: string, sid = 's1'): void => void reg.claim({ server: 'home-web', url }, parsePublicationUrl(url) as never, sid, 'home', 0);
  claim('http://www.home.example.net');
  claim('http://*.blog.example.net');
  claim('http://revoked.example.net');
  claim('tcp://:25');
  reg.release('http://www.home.example.net', 's1', 1000);
  reg.release('http://*.blog.example.net', 's1', 1000);
  reg.release('http://revoked.example.net', 's1'); // a grant revoked: not coming back
  reg.release('tcp://:25', 's1', 1000);
  t.true(reg.recentlyGone('http', 'www.home.example.net', 2000));
  t.true(reg.recentlyGone('http', 'a.blog.example.net', 2000), 'the wildcard, as resolveHost matches it');
  t.false(reg.recentlyGone('https', 'www.home.example.net', 2000), 'another port');
  t.false(reg.recentlyGone('http', 'revoked.example.net', 2000));
  t.false(reg.recentlyGone('http', 'never.example.net', 2000));
  t.false(reg.recentlyGone('http', 'www.home.example.net', 1000 + GONE_MS), 'forgotten after GONE_MS');
  claim('http://a.example.net');
  reg.release('http://a.example.net', 's1', 5000);
  claim('http://a.example.net', 's2');
  t.false(reg.recentlyGone('http', 'a.example.net', 5001), 'served again');
  // One account churning names keeps at most MAX_GONE_PER_ACCOUNT and pushes out only its own.
  const other = 'http://www.other.example.net';
  reg.claim({ server: 'web', url: other }, parsePublicationUrl(other) as never, 'o1', 'other', 0);
  reg.release(other, 'o1', 5500);
  for (let i = 0; i <= MAX_GONE_PER_ACCOUNT; i++) {
    claim(`http://n${i}.example.net`);
    reg.release(`http://n${i}.example.net`, 's1', 6000);
  }
  t.false(reg.recentlyGone('http', 'n0.example.net', 6001), "past its quota an account's oldest is forgotten");
  t.true(reg.recentlyGone('http', `n${MAX_GONE_PER_ACCOUNT}.example.net`, 6001));
  t.true(reg.recentlyGone('http', 'www.other.example.net', 6001), "another account's name stays");
  // Over all accounts, at most MAX_GONE.
  for (let a = 0; a < MAX_GONE / MAX_GONE_PER_ACCOUNT + 1; a++) {
    for (let i = 0; i < MAX_GONE_PER_ACCOUNT; i++) {
      const url = `http://a${a}-${i}.example.net`;
      reg.claim({ server: 'web', url }, parsePublicationUrl(url) as never, `x${a}`, `user${a}`, 0);
      reg.release(url, `x${a}`, 7000);
    }
  }
  t.false(reg.recentlyGone('http', 'www.other.example.net', 7001), 'the oldest of all forgotten past MAX_GONE');
  t.true(reg.recentlyGone('http', `a${MAX_GONE / MAX_GONE_PER_ACCOUNT}-${MAX_GONE_PER_ACCOUNT - 1}.example.net`, 7001));
});
