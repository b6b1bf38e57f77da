/**
 * iperf3 -u through burrow (issue 17), real programs: iperf3's control connection through a TCP server
 * and its datagrams through a udp server of one skeleton, both to the same iperf3 server port, and a
 * client forwarder of each kind on one local port number. A fixed rate for two seconds: the datagrams
 * arrive with under 1 % lost. (bench/udp.sh measures rates; this checks that the path carries a real
 * UDP workload.)
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startForwarder } from '../../client/io/forwarder.js';
import { startUdpForwarder } from '../../client/io/udp-forwarder.js';
import { silentLogger } from '../../shared/log.js';
import { findProgram, randomPort, startDaemon } from '../helpers/port-daemon.js';
import { connectTestClient, newSecret, server, startTestSkeleton, startWorld } from '../helpers/world.js';

const run = promisify(execFile);

test('iperf3 -u at 20 Mbit/s for 2 s through a client forwarder: under 1 % of the datagrams lost', async (t) => {
  const iperf3 = findProgram('iperf3', 'iperf3');
  const daemon = await startDaemon(t, {
    name: 'iperf3',
    prepare: async () => {
      const port = randomPort();
      return { info: { port }, argv: [iperf3, '-s', '-B', '127.0.0.1', '-p', String(port), '--forceflush'] };
    },
    ready: /Server listening on \d+/,
    taken: /Address already in use/,
  });
  const world = await startWorld(t);
  const secret = newSecret();
  await startTestSkeleton(t, world, [
    server('iperf', daemon.info.port, secret),
    server('iperf-udp', daemon.info.port, secret, { protocol: 'udp', transport: 'udp' }),
  ]);
  const client = await connectTestClient(t, world);
  const control = await startForwarder({ client, serverId: 'iperf', secret, host: '127.0.0.1', port: 0, log: silentLogger() });
  t.teardown(() => control.close());
  const data = await startUdpForwarder({ client, serverId: 'iperf-udp', secret, host: '127.0.0.1', port: control.address.port, log: silentLogger() });
  t.teardown(() => data.close());
  const { stdout } = await run(iperf3, ['-c', '127.0.0.1', '-p', String(control.address.port), '-u', '-b', '20M', '-l', '1400', '-t', '2', '--json'], { timeout: 60_000 });
  const result = JSON.parse(stdout) as { end: { sum: { packets: number; lost_packets: number; lost_percent: number; jitter_ms: number } } };
  t.log(`iperf3 -u 20 Mbit/s: ${result.end.sum.packets} datagrams, ${result.end.sum.lost_percent.toFixed(2)} % lost, jitter ${result.end.sum.jitter_ms.toFixed(3)} ms`);
  t.true(result.end.sum.packets > 1000, `${result.end.sum.packets} datagrams`);
  t.true(result.end.sum.lost_percent < 1, `${result.end.sum.lost_percent} % lost`);
  t.true(data.stats().total >= 1, 'the datagrams went through the udp forwarder');
});
