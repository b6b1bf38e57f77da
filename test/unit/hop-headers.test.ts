import test from 'ava';
import { withForwardedHeaders } from '../../relay/public/forwarded-headers.js';
import { stripHopHeaders, upstreamRequestHeaders } from '../../relay/public/hop-headers.js';

test('stripHopHeaders drops hop-by-hop and Connection-named headers, keeps case, order and repeats', (t) => {
  const raw = ['Host', 'a', 'Connection', 'keep-alive, X-Hop', 'X-Hop', '1', 'Keep-Alive', 'timeout=5', 'Set-Cookie', 'a', 'TE', 'gzip', 'Set-Cookie', 'b', 'Upgrade', 'h2c'];
  t.deepEqual(stripHopHeaders(raw), ['Host', 'a', 'Set-Cookie', 'a', 'Set-Cookie', 'b']);
});

test('Connection cannot name away the framing or the Host', (t) => {
  const raw = ['Host', 'a', 'Content-Length', '5', 'Connection', 'content-length, host'];
  t.deepEqual(stripHopHeaders(raw), ['Host', 'a', 'Content-Length', '5']);
});

test('upstream request headers: a chunked body stays chunked with its codings, TE: trailers survives', (t) => {
  t.deepEqual(upstreamRequestHeaders(['Host', 'a', 'Transfer-Encoding', 'gzip, chunked', 'TE', 'trailers, deflate']), ['Host', 'a', 'Transfer-Encoding', 'gzip, chunked', 'TE', 'trailers']);
  t.deepEqual(upstreamRequestHeaders(['Host', 'a', 'TE', 'gzip']), ['Host', 'a']);
});

test('forwarding headers replace the client\'s; IPv6 and mapped IPv4 written as RFC 7239 wants', (t) => {
  const raw = ['Host', 'a.test', 'X-Forwarded-For', '10.0.0.1', 'forwarded', 'for=10.0.0.1', 'X-Real-IP', '10.0.0.1', 'X-Forwarded-Host', 'evil', 'Accept', '*/*'];
  // The relay's own come first: a home server that keeps only so many lines drops the client's, not these.
  t.deepEqual(withForwardedHeaders(raw, { clientAddress: '::ffff:192.0.2.7', proto: 'http', host: 'a.test:8080' }), [
    'X-Forwarded-For', '192.0.2.7', 'X-Forwarded-Proto', 'http', 'X-Forwarded-Host', 'a.test:8080',
    'Forwarded', 'for=192.0.2.7;proto=http;host="a.test:8080"',
    'Host', 'a.test', 'Accept', '*/*',
  ]);
  const v6 = withForwardedHeaders([], { clientAddress: '2001:db8::1', proto: 'http', host: 'a.test' });
  t.is(v6[v6.length - 1], 'for="[2001:db8::1]";proto=http;host=a.test');
});
