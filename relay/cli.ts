/** `burrow relay`: argv, environment and config file in; a running relay until SIGTERM or SIGINT. */
import type { Command } from 'commander';
import { cliContext, type CliContext } from '../shared/cli/cli-context.js';
import { withExamples } from '../shared/cli/help-examples.js';
import { COMMAND_SUMMARIES } from '../shared/cli/command-summaries.js';
import { explainListen, type ListenFlags } from '../shared/cli/listen-hint.js';
import { parsePortRanges } from './public/port-ranges.js';
import { BurrowError } from '../shared/errors.js';
import { LOG_LEVEL_OPTION, loggerFor, untilSignal } from '../shared/cli/log-options.js';
import { addOptions, configOrPrint, CONFIG_OPTION } from '../shared/config/command-options.js';
import { option } from '../shared/config/option-spec.js';
import { formatHostPort } from '../shared/peer/relay-address.js';
import type { Config } from '../shared/config/load-config.js';
import { checkAdminExposure, DEFAULT_ADMIN, parseAdminSetting } from './admin/admin-binding.js';
import type { GuardLimits, RelayLimits } from './index.js';
import { DEFAULT_ARGON2_CONCURRENCY } from './users/password-hash.js';
import { DEFAULT_WS_PATH, wsPathProblem } from './io/ws-path.js';

export const RELAY_OPTIONS = [
  CONFIG_OPTION,
  option('--host <host>', 'string', 'address to listen on for both ports (0.0.0.0: every address of this machine)', { default: '0.0.0.0' }),
  option('--client-port <port>', 'port', 'port for clients', { default: 7000 }),
  option('--skeleton-port <port>', 'port', 'port for skeletons', { default: 7001 }),
  option('--ws-port <port>', 'port', 'also serve both roles over WebSocket on this port (for peers behind HTTPS-only proxies; put nginx or Caddy in front for TLS); off unless given'),
  option('--ws-path <path>', 'string', 'the WebSocket endpoint\'s path (peers use wss://HOST/PATH)', { default: DEFAULT_WS_PATH, check: wsPathProblem }),
  option('--ws-trust-forwarded-for', 'bool', 'behind a reverse proxy: a WebSocket peer\'s address (for per-source limits) is the last X-Forwarded-For entry', { default: false }),
  option('--keys <dir>', 'string', 'directory with relay.key.jwk and relay.pub.jwk', { default: 'keys', path: true }),
  option('--users <file>', 'string', 'users file written by burrow users', { default: 'users.json', path: true }),
  option('--drain <seconds>', 'int', 'on SIGTERM, how long running streams may take to finish', { default: 30, max: 3600 }),
  option('--allow-proxy-protocol', 'bool', 'let skeletons ask for PROXY protocol headers with the real client address', { default: false }),
  option('--handshake-timeout <seconds>', 'int', 'time a new connection has to log in or attach', { default: 10, min: 1, max: 300 }),
  option('--dial-timeout <seconds>', 'int', 'time a skeleton has to dial in for a stream', { default: 10, min: 1, max: 300 }),
  option('--ping-interval <seconds>', 'int', 'heartbeat on every control channel', { default: 10, min: 1, max: 3600 }),
  option('--dead-after <seconds>', 'int', 'a control channel silent this long is dead: its servers are freed', { default: 30, min: 2, max: 86400 }),
  option('--stream-idle-timeout <seconds>', 'int', 'close streams idle this long; 0 never', { default: 6 * 3600 }),
  option('--max-servers-per-skeleton <n>', 'int', 'servers one skeleton session may advertise', { default: 64, min: 1 }),
  option('--max-sessions-per-user <n>', 'int', 'concurrent sessions per account', { default: 32, min: 1 }),
  option('--max-streams-per-session <n>', 'int', 'concurrent streams per client session', { default: 1024, min: 1 }),
  option('--max-streams-per-user <n>', 'int', 'concurrent streams per client account, over all its sessions (2 sockets each)', { default: 4096, min: 1 }),
  option('--max-waiting-streams <n>', 'int', 'streams per client account waiting for a skeleton to dial in', { default: 256, min: 1 }),
  option('--max-unauth-per-source <n>', 'int', 'connections not yet logged in, per source address', { default: 32, min: 1 }),
  option('--max-unauth <n>', 'int', 'connections not yet logged in, in all', { default: 512, min: 1 }),
  option('--login-timeout <seconds>', 'int', 'a login still waiting for its password check this long is refused (ERR_BUSY)', { default: 10, min: 1, max: 300 }),
  option('--max-queued-logins <n>', 'int', 'logins waiting for a password check, from sources that never logged in before', { default: 256, min: 1 }),
  option('--control-burst <n>', 'int', 'control messages a session may send at once before it is read more slowly', { default: 200, min: 1 }),
  option('--control-rate <n>', 'int', 'control messages per second a session may send after its burst', { default: 50, min: 1 }),
  option('--argon2-concurrency <n>', 'int', 'password checks at once: CPU cores - 1 (at most 4) by default, so one core keeps splicing', { default: DEFAULT_ARGON2_CONCURRENCY, min: 1, max: 4 }),
  option('--admin <host:port|off>', 'string', 'admin HTTP (health, metrics, JSON API, dashboard); off disables it', { default: DEFAULT_ADMIN }),
  option('--admin-token-file <file>', 'string', 'bearer token for the admin HTTP (first line); required off loopback', { path: true }),
  option('--audit-log <file>', 'string', 'append one JSON line per finished stream; reopened on SIGHUP', { path: true }),
  option('--public-host <host>', 'string', 'public ingress: address the public listeners bind (default: --host)'),
  option('--http-port <port>', 'port', 'public ingress: the shared HTTP port, routed by Host to http:// publications (off unless given)'),
  option('--https-port <port>', 'port', 'public ingress: the shared HTTPS port, routed by SNI to https:// publications and passed through (off unless given)'),
  option('--public-ports <ranges>', 'string', 'public ingress: ports tcp:// and udp:// publications may use, e.g. 20000-20999 or 25,587,20000-20099 (off unless given)', {
    check: (v) => {
      try {
        parsePortRanges(v);
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
  }),
  option('--relay-name <host>', 'string', "one port for everything: the relay's own host name on --https-port, where it terminates TLS (--tls-cert, --tls-key) for its WebSocket endpoint; other names stay passed through"),
  option('--tls-cert <file>', 'string', 'with --relay-name: the certificate (PEM, full chain) for that name; re-read on SIGHUP', { path: true }),
  option('--tls-key <file>', 'string', 'with --relay-name: its private key (PEM); re-read on SIGHUP', { path: true }),
  option('--udp-idle <seconds>', 'int', 'public ingress: a udp:// publication\'s flow (one public source address and port) ends after this long without a datagram either way', { default: 120, min: 1, max: 86_400 }),
  option('--public-head-timeout <seconds>', 'int', 'public ingress: a request head or ClientHello not complete within this is cut (slowloris)', { default: 10, min: 1, max: 300 }),
  option('--public-max-per-source <n>', 'int', 'public ingress: connections one source (an IPv4 address, an IPv6 /64) may hold over all public ports', { default: 256, min: 1 }),
  option('--public-rate-per-source <n>', 'int', 'public ingress: new connections per second from one source over all public ports (twice that at once)', { default: 50, min: 1 }),
  option('--public-max-conns <n>', 'int', 'public ingress: public connections open at once over the whole relay', { default: 10_000, min: 1 }),
  option('--public-udp-flow-rate <n>', 'int', 'public ingress: new flows per second at each udp publication (twice that at once), after its other rules; UDP sources can be forged, so per-source limits do not bound them', { default: 100, min: 1 }),
  option('--cluster <url>', 'string', 'join a relay cluster whose shared state is in Redis (redis://HOST:PORT); unset: a single relay', { check: clusterUrlProblem, secret: true }),
  option('--cluster-advertise <host:port>', 'hostport', "with --cluster: this relay's skeleton port as skeletons reach it (needed when --host is a wildcard)"),
  option('--cluster-id <id>', 'string', 'with --cluster: this relay\'s name in the cluster (default: random at each start)'),
  option('--cluster-heartbeat <seconds>', 'int', 'with --cluster: how often registrations are refreshed; they expire after three', { default: 5, min: 1, max: 300 }),
  LOG_LEVEL_OPTION,
];

const RELAY_LISTEN_FLAGS: ListenFlags = {
  'client port': { port: '--client-port', host: '--host' },
  'skeleton port': { port: '--skeleton-port', host: '--host' },
  admin: { port: '--admin', host: '--admin' },
  'http port': { port: '--http-port', host: '--public-host' },
  'https port': { port: '--https-port', host: '--public-host' },
  'public port': { port: '--public-ports', host: '--public-host' },
  'ws port': { port: '--ws-port', host: '--host' },
};

function clusterUrlProblem(value: string): string | undefined {
  return /^rediss?:\/\/[^\s]+$/.test(value) ? undefined : 'expected redis://HOST:PORT or rediss://HOST:PORT';
}

/** Limits from the merged config, in the units the relay takes. */
function limitsOf(config: Config): { limits: Partial<RelayLimits>; guard: Partial<GuardLimits> } {
  const n = (key: string): number => config[key] as number;
  return {
    limits: {
      handshakeTimeoutMs: n('handshakeTimeout') * 1000, pingMs: n('pingInterval') * 1000, deadMs: n('deadAfter') * 1000, dialTimeoutMs: n('dialTimeout') * 1000, maxServersPerSkeleton: n('maxServersPerSkeleton'),
      maxSessionsPerUser: n('maxSessionsPerUser'), maxStreamsPerSession: n('maxStreamsPerSession'),
      maxStreamsPerUser: n('maxStreamsPerUser'), maxWaitingPerUser: n('maxWaitingStreams'),
      loginTimeoutMs: n('loginTimeout') * 1000, maxQueuedLogins: n('maxQueuedLogins'), maxLoginsPerSource: n('maxUnauthPerSource'),
      controlBurst: n('controlBurst'), controlPerSecond: n('controlRate'),
    },
    guard: { maxUnauthPerSource: n('maxUnauthPerSource'), maxUnauth: n('maxUnauth') },
  };
}

export function registerRelayCommand(program: Command, overrides: Partial<CliContext> = {}): Command {
  const ctx = cliContext(overrides);
  const cmd = withExamples(
    program.command('relay').description(COMMAND_SUMMARIES.relay.summary),
    'burrow relay --keys keys --users users.json --client-port 7000 --skeleton-port 7001',
    'burrow relay --config /etc/burrow/relay.toml                # see docs/examples/relay.toml',
    'burrow relay --config /etc/burrow/relay.toml --print-config # what it would run with',
    'burrow relay --keys keys --users users.json --http-port 80 --https-port 443 --public-ports 25,20000-20999   # also a public front door',
  );
  addOptions(cmd, RELAY_OPTIONS);
  cmd.action(async () => {
    const config = await configOrPrint(cmd, RELAY_OPTIONS, ctx);
    if (!config) return;
    const log = loggerFor('burrow-relay', config.logLevel);
    const admin = parseAdminSetting(config.admin as string, '--admin');
    checkAdminExposure(admin, config.adminTokenFile !== undefined, 'ERR_USAGE');
    if (config.clientPort === config.skeletonPort && config.clientPort !== 0) {
      throw new BurrowError('ERR_USAGE', `--client-port and --skeleton-port are both ${String(config.clientPort)}: clients and skeletons need a port each (7000 and 7001 by default)`);
    }
    // Loaded only when a relay runs, so the relay's dependencies (prom-client, ioredis) stay out of the
    // skeleton's and the client's processes: loaded there, they halved bulk throughput through the
    // tunnel (iperf3: 5.5 -> 2.9 Gbit/s, the peers' CPU per byte doubled); the cause was not found.
    const { startRelay } = await import('./index.js');
    const relay = await startRelay({
      host: config.host as string,
      clientPort: config.clientPort as number,
      skeletonPort: config.skeletonPort as number,
      ...(config.wsPort !== undefined ? { wsPort: config.wsPort as number, wsPath: config.wsPath as string, wsTrustForwardedFor: config.wsTrustForwardedFor === true } : {}),
      keysDir: config.keys as string,
      usersFile: config.users as string,
      drainMs: (config.drain as number) * 1000,
      streamIdleMs: (config.streamIdleTimeout as number) * 1000,
      allowProxyProtocol: config.allowProxyProtocol === true,
      argon2Concurrency: config.argon2Concurrency as number,
      admin,
      ...(config.adminTokenFile !== undefined ? { adminTokenFile: config.adminTokenFile as string } : {}),
      ...(config.auditLog !== undefined ? { auditLog: config.auditLog as string } : {}),
      ...(config.cluster !== undefined ? {
        cluster: {
          url: config.cluster as string, heartbeatMs: (config.clusterHeartbeat as number) * 1000,
          ...(config.clusterAdvertise !== undefined ? { advertise: config.clusterAdvertise as string } : {}),
          ...(config.clusterId !== undefined ? { relayId: config.clusterId as string } : {}),
        },
      } : {}),
      ...(config.publicHost !== undefined ? { publicHost: config.publicHost as string } : {}),
      ...(config.httpPort !== undefined ? { httpPort: config.httpPort as number } : {}),
      ...(config.httpsPort !== undefined ? { httpsPort: config.httpsPort as number } : {}),
      ...(config.publicPorts !== undefined ? { publicPorts: config.publicPorts as string } : {}),
      publicHeadTimeoutMs: (config.publicHeadTimeout as number) * 1000,
      udpIdleMs: (config.udpIdle as number) * 1000,
      ...(config.relayName !== undefined ? { relayName: config.relayName as string } : {}),
      ...(config.tlsCert !== undefined ? { tlsCertFile: config.tlsCert as string } : {}),
      ...(config.tlsKey !== undefined ? { tlsKeyFile: config.tlsKey as string } : {}),
      publicLimits: {
        perSourceConns: config.publicMaxPerSource as number, perSourceRate: config.publicRatePerSource as number,
        perSourceBurst: 2 * (config.publicRatePerSource as number), maxTotal: config.publicMaxConns as number,
        udpFlowRate: config.publicUdpFlowRate as number,
      },
      ...limitsOf(config),
      log,
    }).catch((err: unknown) => {
      throw explainListen(err, RELAY_LISTEN_FLAGS);
    });
    // Listen for signals before saying we are ready, so a supervisor's early SIGTERM is a clean stop.
    const stopped = untilSignal();
    const { client, skeleton } = relay.addresses;
    ctx.stdout(`relay ${relay.fingerprint} clients on ${formatHostPort(client.address, client.port)}, skeletons on ${formatHostPort(skeleton.address, skeleton.port)}`);
    if (relay.addresses.ws) ctx.stdout(`WebSocket endpoint on ${formatHostPort(relay.addresses.ws.address, relay.addresses.ws.port)}, path ${config.wsPath as string}`);
    if (relay.cluster) ctx.stdout(`cluster member ${relay.cluster.relayId}, advertised to skeletons as ${relay.cluster.advertise}, shared state ${relay.cluster.link.up ? 'connected' : 'unreachable (retrying)'}`);
    const shared = relay.ingress.addresses();
    if (shared.http) ctx.stdout(`public HTTP on ${formatHostPort(shared.http.address, shared.http.port)}`);
    if (shared.https) ctx.stdout(`public HTTPS (passed through by SNI) on ${formatHostPort(shared.https.address, shared.https.port)}`);
    if (config.publicPorts !== undefined) ctx.stdout(`public tcp and udp ports ${String(config.publicPorts)} open as skeletons publish them`);
    ctx.stdout(relay.admin ? `admin on ${relay.admin.url} (dashboard, /metrics, /api)` : 'admin off');
    const onHup = (): void => {
      log.info('SIGHUP: reloading the users file');
      void relay.reloadUsers();
      void relay.reopenAuditLog();
      void relay.reloadTls();
    };
    process.on('SIGHUP', onHup);
    const signal = await stopped;
    process.off('SIGHUP', onHup);
    log.info({ signal }, 'shutting down');
    await relay.close();
  });
  return cmd;
}
