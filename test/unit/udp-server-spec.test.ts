/**
 * `--server ...,transport=udp` (skeleton/server-spec.ts): a datagram server is advertised with protocol
 * udp, which is how a client forwarder learns to listen on UDP; combinations the skeleton cannot honour
 * are refused at config time, naming the option.
 */
import test from 'ava';
import { parseServerFields } from '../../skeleton/server-spec.js';
import { checkServers, serverInfo } from '../../skeleton/io/skeleton-server.js';
import { Redacted } from '../../shared/redacted.js';
import { throwsCode } from '../helpers/unit-errors.js';

test('transport=udp gives a udp server advertised as protocol udp', (t) => {
  const fields = parseServerFields('home-dns=127.0.0.1:53,secret-file=dns.secret,transport=udp');
  t.like(fields, { id: 'home-dns', host: '127.0.0.1', port: 53, protocol: 'udp', transport: 'udp', secretFile: 'dns.secret' });
  const server = { ...(fields as { id: string; host: string; port: number; description: string; protocol: string; transport: 'udp' }), secret: new Redacted(Buffer.alloc(32)) };
  t.is(serverInfo(server).protocol, 'udp');
  t.notThrows(() => checkServers([server]));
});

test('without transport a server stays tcp; transport=tcp is the same', (t) => {
  t.like(parseServerFields('web=127.0.0.1:80,secret-file=s'), { protocol: 'tcp' });
  t.false('transport' in (parseServerFields('web=127.0.0.1:80,secret-file=s,transport=tcp') as object));
});

test('what a udp server cannot be is refused with the reason', (t) => {
  for (const spec of [
    'dns=127.0.0.1:53,secret-file=s,transport=quic',
    'dns=127.0.0.1:53,secret-file=s,transport=udp,protocol=dns',
    'dns=127.0.0.1:53,secret-file=s,protocol=udp',
    'dns=127.0.0.1:53,secret-file=s,transport=udp,proxy-protocol=v1',
  ]) t.true('problem' in parseServerFields(spec), spec);
  t.like(parseServerFields('dns=127.0.0.1:53,secret-file=s,transport=udp,proxy-protocol=v2'), { transport: 'udp', proxy: 'v2' });
  t.like(parseServerFields('dns=127.0.0.1:53,secret-file=s,transport=udp,protocol=udp'), { protocol: 'udp', transport: 'udp' });
});

test('a library caller cannot advertise a tcp server as udp, nor publish across kinds (udp:// is for udp servers only)', (t) => {
  const secret = new Redacted(Buffer.alloc(32));
  const base = { id: 'dns', host: '127.0.0.1', port: 53, description: '', secret };
  throwsCode(t, () => checkServers([{ ...base, protocol: 'udp' }]), 'ERR_CONFIG');
  throwsCode(t, () => checkServers([{ ...base, protocol: 'dns', transport: 'udp' }]), 'ERR_CONFIG');
  throwsCode(t, () => checkServers([{ ...base, protocol: 'udp', transport: 'udp', publications: [{ server: 'dns', url: 'tcp://:53' }] }]), 'ERR_CONFIG');
  throwsCode(t, () => checkServers([{ ...base, protocol: 'tcp', publications: [{ server: 'dns', url: 'udp://:53' }] }]), 'ERR_CONFIG');
  throwsCode(t, () => checkServers([{ ...base, protocol: 'udp', transport: 'udp', proxy: 'v1' }]), 'ERR_CONFIG');
  t.notThrows(() => checkServers([{ ...base, protocol: 'udp', transport: 'udp', publications: [{ server: 'dns', url: 'udp://:53' }] }]));
});

test('udp://:PORT is a publication url with one spelling, and a grant udp:PORT covers it (not tcp:PORT)', async (t) => {
  const { parsePublicationUrl, publicationUrl } = await import('../../shared/protocol/publication-url.js');
  const { grantsCover } = await import('../../relay/users/publish-grant.js');
  const target = parsePublicationUrl('UDP://:5353');
  t.deepEqual(target, { kind: 'udp', port: 5353 });
  t.is(publicationUrl(target as { kind: 'udp'; port: number }), 'udp://:5353');
  t.is(typeof parsePublicationUrl('udp://:0'), 'string');
  t.is(typeof parsePublicationUrl('udp://host'), 'string');
  t.true(grantsCover(['udp:5300-5400'], { kind: 'udp', port: 5353 }));
  t.false(grantsCover(['tcp:5353'], { kind: 'udp', port: 5353 }));
});
