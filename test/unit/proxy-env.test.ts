import test from 'ava';
import { BurrowError } from '../../shared/errors.js';
import { parseProxyUrl, proxyName, proxyRefusal } from '../../shared/net/http-connect.js';
import { bypassesProxy, proxyFromEnv } from '../../shared/net/proxy-env.js';
import { parseHeaderLines, parseRelayAddress, relayAddressProblem, wsRequestPath } from '../../shared/peer/relay-url.js';

test('https_proxy serves wss:// and plain relays, http_proxy (lower case only) ws://, as curl reads them', (t) => {
  const env = { HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2', HTTP_PROXY: 'http://ignored:3' };
  t.is(proxyFromEnv(env, 'wss', 'relay.example.net'), 'http://lower:2');
  t.is(proxyFromEnv(env, 'tcp', 'relay.example.net'), 'http://lower:2');
  t.is(proxyFromEnv({ HTTPS_PROXY: 'http://upper:1' }, 'wss', 'r'), 'http://upper:1');
  t.is(proxyFromEnv(env, 'ws', 'relay.example.net'), undefined, 'HTTP_PROXY in upper case is not read');
  t.is(proxyFromEnv({ http_proxy: 'http://p:8' }, 'ws', 'r'), 'http://p:8');
  t.is(proxyFromEnv({ ...env, NO_PROXY: 'example.net' }, 'wss', 'relay.example.net'), undefined);
});

test('no_proxy: *, domain suffixes with or without a dot, exact IPs, IPv4 CIDR; nothing else', (t) => {
  t.true(bypassesProxy('*', 'anything'));
  t.true(bypassesProxy('example.net', 'relay.example.net'));
  t.true(bypassesProxy('.example.net', 'example.net'));
  t.false(bypassesProxy('example.net', 'badexample.net'));
  t.true(bypassesProxy('localhost, 127.0.0.1', '127.0.0.1'));
  t.false(bypassesProxy('127.0.0.1', '127.0.0.2'));
  t.true(bypassesProxy('10.0.0.0/8', '10.1.2.3'));
  t.false(bypassesProxy('10.0.0.0/8', '11.1.2.3'));
  t.true(bypassesProxy('[::1]', '::1'));
  t.false(bypassesProxy('', 'relay'));
});

test('a proxy URL: credentials percent-decoded and redacted, only http://, no path', (t) => {
  const p = parseProxyUrl('http://us%40er:p%3Ass@proxy.corp:3128');
  t.is(p.host, 'proxy.corp');
  t.is(p.port, 3128);
  t.is(p.credentials?.reveal(), 'us@er:p:ss');
  t.is(JSON.stringify(p), '{"host":"proxy.corp","port":3128,"credentials":"[redacted]"}');
  t.is(proxyName(p), 'proxy proxy.corp:3128');
  t.is(t.throws(() => parseProxyUrl('https://proxy:443'), { instanceOf: BurrowError }).code, 'ERR_USAGE');
  t.is(t.throws(() => parseProxyUrl('http://proxy:3128/x'), { instanceOf: BurrowError }).code, 'ERR_USAGE');
});

test('answers to CONNECT: 407 is ERR_PROXY_AUTH, 5xx the relay unreachable, other refusals ERR_PROXY_REFUSED', (t) => {
  t.is(proxyRefusal(200, 'proxy p:1', 'r:443', false), undefined);
  t.is(proxyRefusal(407, 'proxy p:1', 'r:443', false)?.code, 'ERR_PROXY_AUTH');
  t.is(proxyRefusal(403, 'proxy p:1', 'r:443', true)?.code, 'ERR_PROXY_REFUSED');
  t.is(proxyRefusal(502, 'proxy p:1', 'r:443', true)?.code, 'ERR_RELAY_UNREACHABLE');
});

test('relay addresses: HOST:PORT, ws:// and wss:// URLs with default ports; role= is burrow\'s own', (t) => {
  t.deepEqual(parseRelayAddress('relay.example.net:7001'), { host: 'relay.example.net', port: 7001 });
  t.deepEqual(parseRelayAddress('wss://relay.example.net/any/path'), { host: 'relay.example.net', port: 443, ws: { tls: true, path: '/any/path' } });
  t.deepEqual(parseRelayAddress('ws://[::1]:8080/p?k=v'), { host: '::1', port: 8080, ws: { tls: false, path: '/p?k=v' } });
  t.is(wsRequestPath({ tls: true, path: '/p?k=v' }, 'skeleton'), '/p?k=v&role=skeleton');
  t.is(wsRequestPath({ tls: true, path: '/p' }, 'client'), '/p?role=client');
  t.truthy(relayAddressProblem('wss://relay/p?role=client'));
  t.truthy(relayAddressProblem('wss://user:pw@relay/p'));
  t.is(relayAddressProblem('wss://relay.example.net/any/path'), undefined);
  t.deepEqual(parseHeaderLines(['Host: relay.internal', 'X-Token:  abc']), { Host: 'relay.internal', 'X-Token': 'abc' });
  t.is(t.throws(() => parseHeaderLines(['no colon']), { instanceOf: BurrowError }).code, 'ERR_USAGE');
});
