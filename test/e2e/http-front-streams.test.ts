/** Bodies, events, headers and 1xx through the public HTTP front. */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import test from 'ava';
import { backend, curl, frontFor } from '../helpers/http-front-world.js';
import { sha256Of } from '../helpers/streams.js';

test('chunked upload arrives whole and framed (curl, Transfer-Encoding: chunked)', async (t) => {
  const a = await backend(t, 'A', (req, res) => {
    void sha256Of(req).then(({ hex, bytes }) => res.end(`${req.headers['transfer-encoding']} ${bytes} ${hex}`));
  });
  const world = await frontFor(t, { 'a.example.test': { port: a.port } });
  const body = 'x'.repeat(100_000);
  const result = await curl(['-H', 'Host: a.example.test', '-H', 'Transfer-Encoding: chunked', '--data-binary', body, `http://127.0.0.1:${world.port}/up`]);
  const expected = createHash('sha256').update(body).digest('hex');
  t.is(result.stdout, `chunked 100000 ${expected}`);
});

test('server-sent events stream: the first event arrives while the response is still open', async (t) => {
  let second!: () => void;
  const a = await backend(t, 'A', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    res.write('data: one\n\n');
    second = () => res.end('data: two\n\n');
  });
  const world = await frontFor(t, { 'a.example.test': { port: a.port } });
  const req = http.get({ port: world.port, host: '127.0.0.1', headers: { host: 'a.example.test' } });
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  t.is(res.headers['content-type'], 'text/event-stream');
  const events: string[] = [];
  const ended = once(res, 'end');
  const first = new Promise<void>((resolve) => res.on('data', (c: Buffer) => resolve(void events.push(c.toString()))));
  await first;
  t.deepEqual(events, ['data: one\n\n']);
  second();
  await ended;
  t.deepEqual(events, ['data: one\n\n', 'data: two\n\n']);
});

test('Expect: 100-continue is relayed: the body is sent only after the home server says 100', async (t) => {
  const a = await backend(t, 'A', (req, res) => {
    req.resume();
    req.once('end', () => res.end(`got ${req.headers.expect}`));
  });
  a.server.on('checkContinue', (req, res) => {
    res.writeContinue();
    a.server.emit('request', req, res);
  });
  const world = await frontFor(t, { 'a.example.test': { port: a.port } });
  const req = http.request({ port: world.port, host: '127.0.0.1', method: 'POST', headers: { host: 'a.example.test', expect: '100-continue', 'content-length': 5 } });
  req.on('error', () => undefined);
  req.flushHeaders();
  await once(req, 'continue');
  req.end('hello');
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  t.is((await sha256Of(res)).bytes, 'got 100-continue'.length);
  t.is(a.seen.length, 1);
  t.true(a.seen[0]!.rawHeaders.includes('100-continue'));
});

test('HEAD keeps the length and sends no body; header case, order and repeated Set-Cookie survive', async (t) => {
  const a = await backend(t, 'A', (req, res) => {
    res.writeHead(200, ['Content-Length', '11', 'Set-Cookie', 'a=1', 'X-Mixed-Case', 'v', 'Set-Cookie', 'b=2']);
    res.end(req.method === 'HEAD' ? undefined : 'hello world');
  });
  const world = await frontFor(t, { 'a.example.test': { port: a.port } });
  const head = await curl(['-I', '-H', 'Host: a.example.test', `http://127.0.0.1:${world.port}/`]);
  t.regex(head.stdout, /Content-Length: 11\r\nSet-Cookie: a=1\r\nX-Mixed-Case: v\r\nSet-Cookie: b=2\r\n/);
  const get = await curl(['-H', 'Host: a.example.test', '-H', 'X-Client-Case: k', `http://127.0.0.1:${world.port}/`]);
  t.is(get.stdout, 'hello world');
  t.true(a.seen[1]!.rawHeaders.includes('X-Client-Case'));
});

test('hop-by-hop headers stop at the front, both ways', async (t) => {
  const a = await backend(t, 'A', (_req, res) => {
    res.writeHead(200, ['Content-Length', '2', 'Keep-Alive', 'timeout=99', 'X-Secret-Hop', 's', 'Connection', 'X-Secret-Hop']);
    res.end('ok');
  });
  const world = await frontFor(t, { 'a.example.test': { port: a.port } });
  const result = await curl(['-i', '-H', 'Host: a.example.test', '-H', 'Connection: X-Private', '-H', 'X-Private: p', '-H', 'Proxy-Connection: keep-alive', `http://127.0.0.1:${world.port}/`]);
  t.notRegex(result.stdout, /X-Secret-Hop|timeout=99/i);
  const names = a.seen[0]!.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
  t.false(names.includes('x-private'));
  t.false(names.includes('proxy-connection'));
});

test('trailers are relayed both ways on chunked hops', async (t) => {
  const a = await backend(t, 'A', (req, res) => {
    req.resume();
    req.once('end', () => {
      res.writeHead(200, { 'Content-Type': 'text/plain', Trailer: 'X-Sum' });
      res.write(`req-trailer=${req.trailers['x-up'] ?? 'none'}`);
      res.addTrailers({ 'X-Sum': 'abc' });
      res.end();
    });
  });
  const world = await frontFor(t, { 'a.example.test': { port: a.port } });
  const req = http.request({ port: world.port, host: '127.0.0.1', method: 'POST', headers: { host: 'a.example.test', trailer: 'X-Up', te: 'trailers' } });
  req.write('body');
  req.addTrailers({ 'X-Up': 'u1' });
  req.end();
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  await once(res, 'end');
  t.is(Buffer.concat(chunks).toString(), 'req-trailer=u1');
  t.is(res.trailers['x-sum'], 'abc');
});

test('X-Forwarded-* and Forwarded only where the publication asks, and a client cannot spoof them', async (t) => {
  const plain = await backend(t, 'P');
  const fwd = await backend(t, 'F');
  const world = await frontFor(t, { 'plain.example.test': { port: plain.port }, 'fwd.example.test': { port: fwd.port, forwarded: true } });
  const spoof = ['-H', 'X-Forwarded-For: 10.6.6.6', '-H', 'Forwarded: for=10.6.6.6', '-H', 'X-Real-IP: 10.6.6.6'];
  await curl([...spoof, '-H', 'Host: plain.example.test', `http://127.0.0.1:${world.port}/`]);
  await curl([...spoof, '-H', 'Host: fwd.example.test', `http://127.0.0.1:${world.port}/`]);
  const headersOf = (raw: string[]) => raw.reduce<[string, string][]>((acc, v, i) => (i % 2 ? acc : [...acc, [v.toLowerCase(), raw[i + 1]!]]), []);
  const p = headersOf(plain.seen[0]!.rawHeaders);
  t.deepEqual(p.filter(([n]) => n.startsWith('x-forwarded') || n === 'forwarded').map(([n, v]) => `${n}=${v}`), ['x-forwarded-for=10.6.6.6', 'forwarded=for=10.6.6.6']);
  const f = headersOf(fwd.seen[0]!.rawHeaders).filter(([n]) => /^(x-forwarded|forwarded|x-real-ip)/.test(n));
  t.deepEqual(f, [
    ['x-forwarded-for', '127.0.0.1'],
    ['x-forwarded-proto', 'http'],
    ['x-forwarded-host', 'fwd.example.test'],
    ['forwarded', 'for=127.0.0.1;proto=http;host=fwd.example.test'],
  ]);
});

test('underscore spellings of forwarding headers are dropped where the publication asks, kept where not', async (t) => {
  const plain = await backend(t, 'P');
  const fwd = await backend(t, 'F');
  const world = await frontFor(t, { 'plain.example.test': { port: plain.port }, 'fwd.example.test': { port: fwd.port, forwarded: true } });
  const spoof = ['-H', 'X-Forwarded_For: 10.6.6.6', '-H', 'X_Forwarded_For: 10.6.6.7', '-H', 'x_real_ip: 10.6.6.8', '-H', 'X-Forwarded_Host: evil.test', '-H', 'X_Keep: k'];
  await curl([...spoof, '-H', 'Host: plain.example.test', `http://127.0.0.1:${world.port}/`]);
  await curl([...spoof, '-H', 'Host: fwd.example.test', `http://127.0.0.1:${world.port}/`]);
  const names = (raw: string[]) => raw.filter((_, i) => i % 2 === 0);
  t.deepEqual(names(plain.seen[0]!.rawHeaders).filter((n) => n.includes('_')), ['X-Forwarded_For', 'X_Forwarded_For', 'x_real_ip', 'X-Forwarded_Host', 'X_Keep']);
  t.deepEqual(names(fwd.seen[0]!.rawHeaders).filter((n) => n.includes('_')), ['X_Keep']);
  t.false(fwd.seen[0]!.rawHeaders.some((v) => v.startsWith('10.6.6') || v === 'evil.test'));
});

test('a home server that dies mid-body: the client sees a cut, never a short body passed off as whole', async (t) => {
  const a = await backend(t, 'A', (_req, res) => {
    res.writeHead(200, { 'Content-Length': 100 });
    res.write('0123456789', () => res.socket?.destroy());
  });
  const world = await frontFor(t, { 'a.example.test': { port: a.port } });
  const result = await curl(['-H', 'Host: a.example.test', `http://127.0.0.1:${world.port}/`]);
  t.is(result.code, 56); // CURLE_RECV_ERROR: the relay resets the connection (a FIN would give 18, a short body)
  t.is(result.stdout, '0123456789');
});

test('a body without a length cut mid-way reaches an HTTP/1.0 client as a reset, not as the end of the body', async (t) => {
  // To an HTTP/1.0 client a body without a length ends with the connection: only a reset shows the cut.
  const a = await backend(t, 'A', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('0123456789', () => res.socket?.destroy());
  });
  const world = await frontFor(t, { 'a.example.test': { port: a.port } });
  const result = await curl(['--http1.0', '-H', 'Host: a.example.test', `http://127.0.0.1:${world.port}/`]);
  t.is(result.stdout, '0123456789');
  t.is(result.code, 56, 'CURLE_RECV_ERROR: the connection was reset, curl does not report a whole body'); // was 0 with a FIN
});
