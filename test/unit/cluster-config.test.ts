import test from 'ava';
import { parseDialRequest, parsePenaltyNotice } from '../../relay/cluster/dial-request.js';
import { clusterIdentity } from '../../relay/cluster/start-cluster.js';

test('a cluster relay advertises its bound skeleton address, or needs --cluster-advertise on a wildcard bind', (t) => {
  t.deepEqual(clusterIdentity({ url: 'redis://x:1', relayId: 'a' }, { address: '10.0.0.5', port: 7001 }), { relayId: 'a', advertise: '10.0.0.5:7001' });
  t.deepEqual(clusterIdentity({ url: 'redis://x:1', relayId: 'a' }, { address: '::1', port: 7001 }), { relayId: 'a', advertise: '[::1]:7001' });
  t.deepEqual(clusterIdentity({ url: 'redis://x:1', relayId: 'a', advertise: 'relay.example:7001' }, { address: '0.0.0.0', port: 7001 }).advertise, 'relay.example:7001');
  for (const address of ['0.0.0.0', '::']) t.throws(() => clusterIdentity({ url: 'redis://x:1' }, { address, port: 7001 }), { code: 'ERR_CONFIG' } as never);
  t.throws(() => clusterIdentity({ url: 'redis://x:1', relayId: 'a b' }, { address: '127.0.0.1', port: 1 }), { code: 'ERR_CONFIG' } as never);
  t.regex(clusterIdentity({ url: 'redis://x:1' }, { address: '127.0.0.1', port: 1 }).relayId, /^[0-9a-f]{12}$/);
});

test('dial requests and penalty notices from Redis are checked field by field', (t) => {
  const good = { dial: 'd1', server: 'echo', sid: 's1', origin: 'relay-a.example:7001' };
  t.deepEqual(parseDialRequest(JSON.stringify(good)), good);
  for (const bad of ['not json', 'null', '[]', JSON.stringify({ ...good, dial: 'x y' }), JSON.stringify({ ...good, server: '../etc' }),
    JSON.stringify({ ...good, origin: 'no-port' }), JSON.stringify({ ...good, sid: 5 })]) {
    t.is(parseDialRequest(bad), undefined, bad);
  }
  t.deepEqual(parsePenaltyNotice(JSON.stringify({ from: 'a', source: '192.0.2.1', user: 'alice' })), { from: 'a', source: '192.0.2.1', user: 'alice' });
  t.is(parsePenaltyNotice(JSON.stringify({ from: 'a', source: 'evil source' })), undefined);
  t.is(parsePenaltyNotice(JSON.stringify({ from: 'a', source: '192.0.2.1', user: 7 })), undefined);
});
