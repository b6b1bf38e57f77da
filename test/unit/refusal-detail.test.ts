import test from 'ava';
import { BurrowError } from '../../shared/errors.js';
import { connectTarget } from '../../shared/net/connect-target.js';
import { refusalDetail } from '../../skeleton/io/refusal-detail.js';

test('an unreachable home server: the refusal names its address and the cause (a real refused connect)', async (t) => {
  // Port 1 on loopback: nothing listens there, the kernel refuses at once.
  const err = await connectTarget('127.0.0.1', 1, 5_000).then(() => undefined, (e: unknown) => e);
  t.deepEqual(refusalDetail(err, { host: '127.0.0.1', port: 1 }), { target: '127.0.0.1:1', cause: 'ECONNREFUSED' });
  t.deepEqual(refusalDetail(new BurrowError('ERR_SERVER_UNREACHABLE'), { host: '::1', port: 8080 }), { target: '[::1]:8080' });
});

test('other refusals (a wrong secret, a limit) add nothing about the home server', (t) => {
  t.deepEqual(refusalDetail(new BurrowError('ERR_LIMIT'), { host: '127.0.0.1', port: 80 }), {});
  t.deepEqual(refusalDetail(new Error('x'), { host: '127.0.0.1', port: 80 }), {});
});
