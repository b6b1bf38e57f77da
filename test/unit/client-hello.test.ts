/**
 * relay/public/client-hello.ts: the SNI reader reads real ClientHellos from Node and openssl however they
 * are split into records and TCP segments, forwards every byte it received, refuses what is not a
 * well-formed TLS hello with a server name, caps what it holds, and never throws.
 */
import test from 'ava';
import fc from 'fast-check';
import { ClientHelloReader, MAX_HELLO_BYTES, MAX_RECEIVED_BYTES, type HelloResult } from '../../relay/public/client-hello.js';
import { alpnExtension, handshakeOf, nodeHello, opensslHello, reframe, sniExtension, syntheticHello, vector } from '../helpers/client-hellos.js';

function readAll(bytes: Buffer): HelloResult {
  return new ClientHelloReader().push(bytes);
}

/** Feeds `bytes` in pieces of `size`; every result before the last piece must be need-more. */
function readInPieces(t: { true(v: boolean, m?: string): void }, bytes: Buffer, size: number): HelloResult {
  const reader = new ClientHelloReader();
  let result: HelloResult = { state: 'need-more' };
  for (let at = 0; at < bytes.length; at += size) {
    t.true(result.state === 'need-more', `settled before byte ${at}`);
    result = reader.push(bytes.subarray(at, at + size));
  }
  return result;
}

function recordCount(bytes: Buffer): number {
  let n = 0;
  for (let at = 0; at + 5 <= bytes.length; at += 5 + bytes.readUInt16BE(at + 3)) n++;
  return n;
}

/** Many long ALPN names: a hello of about `kb` KiB, like a post-quantum one or bigger. */
function longAlpn(kb: number): string[] {
  return Array.from({ length: Math.ceil((kb * 1024) / 151) }, (_, i) => `p${i}-${'x'.repeat(145)}`.slice(0, 150));
}

test("Node's hello: the name lower-cased, ALPN in order, every byte kept to forward", async (t) => {
  const hello = await nodeHello(t, { servername: 'WWW.Home.Example.NET', ALPNProtocols: ['h2', 'http/1.1'] });
  const result = readAll(hello);
  t.like(result, { state: 'done', serverName: 'www.home.example.net', alpn: ['h2', 'http/1.1'] });
  if (result.state === 'done') t.deepEqual(result.bytes, hello);
});

test("Node's hello fed one byte at a time settles at its last byte with the same bytes", async (t) => {
  const hello = await nodeHello(t, { servername: 'a.example', ALPNProtocols: ['acme-tls/1'] });
  const result = readInPieces(t, hello, 1);
  t.like(result, { state: 'done', serverName: 'a.example', alpn: ['acme-tls/1'] });
  if (result.state === 'done') t.deepEqual(result.bytes, hello);
});

test('openssl s_client: its hello, and one it splits itself into 512-byte records', async (t) => {
  const plain = await opensslHello(t, ['-servername', 'mail.example.org', '-alpn', 'acme-tls/1,h2']);
  t.like(readAll(plain), { state: 'done', serverName: 'mail.example.org', alpn: ['acme-tls/1', 'h2'] });
  const alpn = longAlpn(3);
  const split = await opensslHello(t, ['-servername', 'big.example.org', '-max_send_frag', '512', '-alpn', alpn.join(',')]);
  t.true(recordCount(split) >= 6, `openssl sent ${recordCount(split)} records`);
  const result = readInPieces(t, split, 1000);
  t.like(result, { state: 'done', serverName: 'big.example.org', alpn });
  if (result.state === 'done') t.deepEqual(result.bytes, split);
});

test('a 6 KiB hello re-framed into 100-byte records and sent in 7-byte segments', async (t) => {
  const alpn = longAlpn(6);
  const hello = reframe(await nodeHello(t, { servername: 'pq.example', ALPNProtocols: alpn }), 100);
  t.true(recordCount(hello) > 60, `${recordCount(hello)} records`);
  const result = readInPieces(t, hello, 7);
  t.like(result, { state: 'done', serverName: 'pq.example', alpn });
  if (result.state === 'done') t.deepEqual(result.bytes, hello);
});

test('a hello over 16 KiB (Node splits it into two records) is refused as too large', async (t) => {
  const hello = await nodeHello(t, { servername: 'huge.example', ALPNProtocols: longAlpn(17) });
  t.true(recordCount(hello) >= 2);
  t.true(handshakeOf(hello).length > MAX_HELLO_BYTES);
  t.like(readAll(hello), { state: 'refused', reason: 'too-large' });
});

test('a hello with no server name is refused no-sni', async (t) => {
  // Node sends no server_name to an address literal.
  t.like(readAll(await nodeHello(t, {})), { state: 'refused', reason: 'no-sni' });
  t.like(readAll(syntheticHello([alpnExtension('h2')])), { state: 'refused', reason: 'no-sni' });
});

test('an HTTP request or an SSLv2-style hello is refused as not TLS at its first byte', (t) => {
  t.like(new ClientHelloReader().push(Buffer.from('G')), { state: 'refused', reason: 'not-tls' });
  t.like(readAll(Buffer.from('GET / HTTP/1.1\r\nHost: a.example\r\n\r\n')), { state: 'refused', reason: 'not-tls' });
  t.like(readAll(Buffer.from([0x80, 0x2e, 0x01, 0x03, 0x01])), { state: 'refused', reason: 'not-tls' });
  t.like(readAll(Buffer.from([22, 2, 0])), { state: 'refused', reason: 'not-tls' });
  t.like(readAll(Buffer.from([22, 3, 9])), { state: 'refused', reason: 'not-tls' });
});

test('a declared hello length over the cap is refused from its header, before the body arrives', (t) => {
  const reader = new ClientHelloReader();
  t.like(reader.push(Buffer.from([22, 3, 1, 0x40, 0x00, 1, 0xff, 0xff])), { state: 'need-more' });
  t.like(reader.push(Buffer.from([0xff])), { state: 'refused', reason: 'too-large' });
});

test('record lengths: zero and over 2^14 are malformed; a non-handshake record mid-hello is malformed', (t) => {
  t.like(readAll(Buffer.from([22, 3, 1, 0, 0])), { state: 'refused', reason: 'malformed' });
  t.like(readAll(Buffer.from([22, 3, 1, 0x40, 0x01])), { state: 'refused', reason: 'malformed' });
  const two = reframe(syntheticHello([sniExtension('a.example')]), 50);
  const second = 5 + 50;
  t.like(readAll(Buffer.concat([two.subarray(0, second), Buffer.from([20, 3, 3, 0, 1, 1])])), { state: 'refused', reason: 'malformed' });
  t.like(readAll(Buffer.from([22, 3, 1, 0, 4, 2, 0, 0, 0])), { state: 'refused', reason: 'malformed' }, 'a ServerHello');
});

test('too many tiny records are refused once the bytes received pass the cap', (t) => {
  const hello = reframe(syntheticHello([sniExtension('a.example'), alpnExtension(...longAlpn(6))]), 1);
  const reader = new ClientHelloReader();
  let result: HelloResult = { state: 'need-more' };
  let at = 0;
  for (; at < hello.length && result.state === 'need-more'; at += 1000) result = reader.push(hello.subarray(at, at + 1000));
  t.like(result, { state: 'refused', reason: 'too-large' });
  t.true(at > MAX_RECEIVED_BYTES && at < hello.length, `refused after ${at} of ${hello.length} bytes`);
  t.like(readAll(reframe(syntheticHello([sniExtension('a.example')]), 1)), { state: 'done', serverName: 'a.example' });
});

test('truncated or overlong inner lengths are malformed', async (t) => {
  const hello = await nodeHello(t, { servername: 'a.example' });
  const hs = handshakeOf(hello);
  // Cut the hello's last 3 bytes and fix both outer lengths: the extensions block now says more than there is.
  const cut = hs.subarray(0, hs.length - 3);
  cut.writeUIntBE(cut.length - 4, 1, 3);
  t.like(readAll(Buffer.concat([hello.subarray(0, 3), vector(2, cut)])), { state: 'refused', reason: 'malformed' });
  // A trailing byte after the extensions block.
  const long = Buffer.concat([hs, Buffer.from([0])]);
  long.writeUIntBE(long.length - 4, 1, 3);
  t.like(readAll(Buffer.concat([hello.subarray(0, 3), vector(2, long)])), { state: 'refused', reason: 'malformed' });
});

test('server names: checked as DNS host names, lower-cased, one trailing dot dropped', (t) => {
  const sni = (...names: string[]) => readAll(syntheticHello([sniExtension(...names)]));
  t.like(sni('Example.COM.'), { state: 'done', serverName: 'example.com' });
  t.like(sni(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`), { state: 'done' });
  for (const bad of ['a_b.example', 'a..example', '.example', 'example..', '-a.example', 'a-.example', 'a b', 'caf\xe9.example', `${'a'.repeat(64)}.example`, `${'a.'.repeat(127)}ab`]) {
    t.like(sni(bad), { state: 'refused', reason: 'malformed' }, bad);
  }
  t.like(sni('a.example', 'b.example'), { state: 'refused', reason: 'malformed' }, 'two host names');
  t.like(readAll(syntheticHello([sniExtension('a.example'), sniExtension('b.example')])), { state: 'refused', reason: 'malformed' }, 'two server_name extensions');
  t.like(readAll(syntheticHello([[0, Buffer.alloc(0)]])), { state: 'refused', reason: 'malformed' }, 'an empty server_name');
  t.like(readAll(syntheticHello([sniExtension('a.example'), [16, vector(2, Buffer.from([0]))]])), { state: 'refused', reason: 'malformed' }, 'an empty ALPN name');
});

test('bytes after the hello in the same segment are forwarded too, and the result does not change after', (t) => {
  const reader = new ClientHelloReader();
  const hello = syntheticHello([sniExtension('a.example')]);
  const after = Buffer.from([20, 3, 3, 0, 1, 1]);
  const result = reader.push(Buffer.concat([hello, after]));
  t.like(result, { state: 'done', serverName: 'a.example' });
  if (result.state === 'done') t.deepEqual(result.bytes, Buffer.concat([hello, after]));
  t.is(reader.push(Buffer.from('more')), result);
});

test('random mutations and splits of a real hello never throw, and whatever is accepted is a valid name', async (t) => {
  const hello = await nodeHello(t, { servername: 'fuzz.example', ALPNProtocols: ['h2', 'http/1.1'] });
  t.like(readAll(hello), { state: 'done' });
  const edit = fc.record({ at: fc.nat(hello.length - 1), value: fc.nat(255), op: fc.constantFrom('set', 'cut', 'insert') });
  fc.assert(
    fc.property(fc.array(edit, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 600 }), (edits, size) => {
      let bytes = Buffer.from(hello);
      for (const { at, value, op } of edits) {
        const i = Math.min(at, bytes.length);
        if (op === 'set' && i < bytes.length) bytes[i] = value;
        else if (op === 'cut') bytes = bytes.subarray(0, i);
        else bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from([value]), bytes.subarray(i)]);
      }
      const reader = new ClientHelloReader();
      let result: HelloResult = { state: 'need-more' };
      for (let at = 0; at < bytes.length && result.state === 'need-more'; at += size) result = reader.push(bytes.subarray(at, at + size));
      if (result.state === 'done') return /^[a-z0-9.-]+$/.test(result.serverName) && result.bytes.length <= bytes.length;
      return true;
    }),
    { numRuns: 3000, seed: 16 },
  );
  t.pass();
});
