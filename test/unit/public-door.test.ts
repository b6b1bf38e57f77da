/**
 * The public door counts udp flows apart from connections (relay/public/public-door.ts): a flow's source
 * may be forged, so flows must not take the connections' relay-wide cap nor a real address's share.
 */
import test from 'ava';
import type { PublicationRecord } from '../../relay/core/publication-registry.js';
import { PublicDoor } from '../../relay/public/public-door.js';
import { PublicStats } from '../../relay/public/public-stats.js';
import { silentLogger } from '../../shared/log.js';

const UDP = { url: 'udp://:5353', rules: {} } as unknown as PublicationRecord;

test('udp flows fill their own relay-wide and per-source counts, not the connections', (t) => {
  const stats = new PublicStats();
  const door = new PublicDoor(stats, silentLogger(), { maxTotal: 2, perSourceConns: 2 });
  t.truthy(door.arriveDatagram('192.0.2.7', UDP));
  t.truthy(door.arriveDatagram('192.0.2.7', UDP));
  t.is(door.arriveDatagram('192.0.2.7', UDP), undefined, 'the flows are at their cap');
  t.is(stats.get(UDP.url)?.refusals['total-cap'], 1);
  // The same address (perhaps forged by the flows' sender) still opens connections, up to their own caps.
  const first = door.arrive('192.0.2.7', 'http');
  const second = door.arrive('192.0.2.7', 'http');
  t.true(first.ok && second.ok);
  t.false(door.arrive('192.0.2.7', 'http').ok, 'the connections have their own cap');
});
