/**
 * Every end-to-end stream rekeys (issue 14), not only tunnels: the stream `client stdio` runs (open()
 * piped to standard input and output by pumpStdio) replaces its sending key every GiB and every 10
 * minutes, here every 64 KiB, and so does the skeleton's side of it. Before, single streams kept their
 * first key for their whole life.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { connect } from '../../client/index.js';
import { pumpStdio } from '../../client/io/stdio-stream.js';
import type { SecureDuplex } from '../../shared/crypto/secure-duplex.js';
import { Redacted } from '../../shared/redacted.js';
import { startSkeleton } from '../../skeleton/index.js';
import { echoServer, newSecret, PASSWORD, server, startWorld } from '../helpers/world.js';

const REKEY = { bytes: 64 * 1024 };

test('a client stdio stream rekeys both ways and carries 1 MiB each way intact across the key changes', async (t) => {
  const world = await startWorld(t);
  const echo = await echoServer(t);
  const secret = newSecret();
  const skeleton = await startSkeleton({ relay: world.skeletonTarget, user: 'home', password: new Redacted(PASSWORD), servers: [server('echo', echo.port, secret)], rekey: REKEY });
  t.teardown(() => skeleton.close());
  const client = await connect({ relay: world.clientTarget, user: 'alice', password: new Redacted(PASSWORD), rekey: REKEY });
  t.teardown(() => client.close());

  // What `burrow client stdio` does: open(id) and pump it to and from standard input and output.
  const stream = (await client.open('echo', { secret })) as SecureDuplex;
  const input = new PassThrough();
  const output = new PassThrough();
  const received: Buffer[] = [];
  output.on('data', (chunk: Buffer) => received.push(chunk));
  const pumped = pumpStdio(stream, input, output);
  const payload = randomBytes(1024 * 1024);
  input.end(payload);
  await pumped;
  t.true(Buffer.concat(received).equals(payload), 'every byte came back, in order');
  const { sent, received: peer } = stream.rekeys;
  t.log(`client rekeyed ${sent} times, the skeleton ${peer} times`);
  // The byte count is checked at each flush (up to 256 KiB sealed at once): 1 MiB makes at least 3 rekeys.
  t.true(sent >= 3, `the client's sending key changed ${sent} times`);
  t.true(peer >= 3, `the skeleton's sending key changed ${peer} times`);
});
