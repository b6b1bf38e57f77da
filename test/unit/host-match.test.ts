import test from 'ava';
import { matchHost, normalizeHost } from '../../relay/public/host-match.js';
import { requestTarget } from '../../relay/public/request-target.js';

test('normalizeHost: case, port, trailing dot, IPv6 literal', (t) => {
  t.is(normalizeHost('WWW.Example.NET'), 'www.example.net');
  t.is(normalizeHost('www.example.net:8080'), 'www.example.net');
  t.is(normalizeHost('www.example.net.'), 'www.example.net');
  t.is(normalizeHost('www.example.net.:80'), 'www.example.net');
  t.is(normalizeHost('www.example.net:'), 'www.example.net');
  t.is(normalizeHost('[::1]:80'), '[::1]');
  t.is(normalizeHost('[2001:DB8::1]'), '[2001:db8::1]');
});

test('normalizeHost refuses what is not a host name', (t) => {
  for (const bad of [undefined, '', ':80', 'a b', 'a/b', 'a:b:c', '::1', '[::1', '[::1]x', '[zz]', 'a:99999999', 'a..b', '.a', 'a\u00e9', '*.example.net', `${'a'.repeat(64)}.net`, `${'a.'.repeat(127)}aa`]) {
    t.is(normalizeHost(bad), undefined, String(bad));
  }
});

test('matchHost: exact before wildcard; wildcard covers one label, not deeper names nor the apex', (t) => {
  const names = new Set(['www.home.example.net', '*.home.example.net', '*.b.home.example.net']);
  t.is(matchHost('www.home.example.net', names), 'www.home.example.net');
  t.is(matchHost('blog.home.example.net', names), '*.home.example.net');
  t.is(matchHost('x.b.home.example.net', names), '*.b.home.example.net');
  t.is(matchHost('x.y.home.example.net', names), undefined);
  t.is(matchHost('home.example.net', names), undefined);
  t.is(matchHost('*.home.example.net', names), undefined);
  t.is(matchHost('other.example.net', names), undefined);
  t.is(matchHost('blog.home.example.net', ['*.home.example.net']), '*.home.example.net');
});

test('requestTarget: origin form, OPTIONS *, absolute form agreeing with Host', (t) => {
  const req = (url: string, host: string | undefined, method = 'GET') => ({ url, method, rawHeaders: host === undefined ? [] : ['Host', host] });
  t.deepEqual(requestTarget(req('/a?b', 'A.test:80')), { host: 'a.test', sentHost: 'A.test:80', path: '/a?b' });
  t.deepEqual(requestTarget(req('*', 'a.test', 'OPTIONS')), { host: 'a.test', sentHost: 'a.test', path: '*' });
  t.deepEqual(requestTarget(req('http://a.test:80/p?q', 'a.test')), { host: 'a.test', sentHost: 'a.test', path: '/p?q' });
  t.is(requestTarget(req('http://b.test/', 'a.test')), undefined);
  t.is(requestTarget(req('/', undefined)), undefined);
  t.is(requestTarget(req('ftp://a.test/', 'a.test')), undefined);
  t.is(requestTarget(req('*', 'a.test')), undefined);
  // An absolute-form path goes up as written, as the same path in origin form would: never resolved here.
  t.deepEqual(requestTarget(req('http://a.test/a/%2e%2e/admin', 'a.test')), { host: 'a.test', sentHost: 'a.test', path: '/a/%2e%2e/admin' });
  t.deepEqual(requestTarget(req('http://a.test/a/../b//c?x=/..', 'a.test')), { host: 'a.test', sentHost: 'a.test', path: '/a/../b//c?x=/..' });
  t.deepEqual(requestTarget(req('http://a.test', 'a.test')), { host: 'a.test', sentHost: 'a.test', path: '/' });
  t.deepEqual(requestTarget(req('http://a.test?q=1', 'a.test')), { host: 'a.test', sentHost: 'a.test', path: '/?q=1' });
  // Two Host headers (any case): refused, whichever the parser kept.
  t.is(requestTarget({ ...req('/', 'a.test'), rawHeaders: ['Host', 'a.test', 'HOST', 'b.test'] }), undefined);
});
