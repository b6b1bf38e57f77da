/**
 * The skeleton's UDP flows are shared between burrow clients (who proved the server's secret) and
 * public sources (which anyone can forge): public flows hold at most half of --max-udp-flows, and one
 * server's public flows a quarter, so forged sources flooding one publication can neither lock out the
 * other publications nor the clients (found by an outside attack: with equal caps, 4,096 forged sources
 * on one public port took every flow of the skeleton). Real UDP sockets on loopback.
 */
import test from 'ava';
import { BurrowError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/log.js';
import { UdpFlows, type OpenFlow } from '../../skeleton/io/udp-flows.js';
import type { SkeletonServer } from '../../skeleton/io/skeleton-server.js';

const udpServer = (id: string): SkeletonServer => ({ id, host: '127.0.0.1', port: 9, description: '', protocol: 'udp', transport: 'udp' }) as SkeletonServer;

test('public flows take at most a quarter of the skeleton\'s flows per server and half in all; client flows keep the rest', async (t) => {
  const flows = new UdpFlows(silentLogger(), { maxFlows: 8 });
  t.teardown(() => flows.close());
  t.deepEqual(flows.publicShares, { total: 4, perServer: 2 });
  const [a, b, c] = [udpServer('home-a'), udpServer('home-b'), udpServer('home-c')];
  const opened: OpenFlow[] = [];
  const open = async (server: SkeletonServer, origin: 'client' | 'public'): Promise<OpenFlow> => {
    const flow = await flows.open(server, undefined, origin);
    opened.push(flow);
    return flow;
  };
  t.teardown(() => { for (const f of opened) f.abandon(); });
  const limit = { instanceOf: BurrowError, message: /public udp flows/ };
  const first = await open(a, 'public');
  await open(a, 'public');
  await t.throwsAsync(open(a, 'public'), limit, 'a third public flow of one server');
  await open(b, 'public');
  await open(b, 'public');
  await t.throwsAsync(open(c, 'public'), limit, 'a fifth public flow in all');
  // Burrow clients still get the other half of the skeleton's flows, even of the flooded server.
  for (let i = 0; i < 4; i++) await open(a, 'client');
  t.is(flows.totals().active, 8);
  await t.throwsAsync(open(a, 'client'), { instanceOf: BurrowError, message: /udp flows per skeleton/ }, 'the skeleton cap still holds');
  // A public flow that ends gives its place back.
  first.abandon();
  await open(c, 'public');
  t.is(flows.totals().active, 8);
});
