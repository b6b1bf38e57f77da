/**
 * startRelay(options): the relay as a library. Resolves once both ports listen.
 */
import { DRAIN_IDLE_MS } from '../shared/net/idle-sweep.js';
import { createServer, type AddressInfo } from 'node:net';
import { listenOn } from '../shared/net/listen-on.js';
import { EphemeralKeyRing } from '../shared/crypto/ephemeral-key.js';
import { loadRelayKeys, type RelayIdentity } from '../shared/crypto/relay-key-files.js';
import { CleanupStack } from '../shared/cleanup-stack.js';
import { silentLogger, type Logger } from '../shared/log.js';
import { DEFAULT_RELAY_LIMITS, type RelayLimits } from './core/relay-limits.js';
import { DEFAULT_GUARD_LIMITS, type GuardLimits } from './core/source-guard.js';
import { RelayRuntime, type StreamAudit } from './io/relay-runtime.js';
import { UsersStore } from './io/users-store.js';
import { startWsListener } from './io/ws-listener.js';
import { DEFAULT_WS_PATH } from './io/ws-path.js';
import { DEFAULT_ARGON2_CONCURRENCY, PasswordHasher } from './users/password-hash.js';
import { checkAdminExposure, DEFAULT_ADMIN, parseAdminSetting, type AdminBinding } from './admin/admin-binding.js';
import { AdminToken, readAdminToken } from './admin/admin-token.js';
import { AuditLog } from './admin/audit-log.js';
import { startRelayAdmin } from './admin/relay-admin.js';
import type { RelayMetrics } from './admin/relay-metrics.js';
import type { ClusterLink } from './cluster/cluster-link.js';
import { startIngress, type PublicIngress } from './public/public-ingress.js';
import { parsePortRanges, type PortRange } from './public/port-ranges.js';
import type { FrontDoorLimits } from './public/front-door.js';
import { publicationsView } from './admin/publications-view.js';
import { ownName, type OwnName } from './public/own-name.js';
import { BurrowError } from '../shared/errors.js';
import type { ClusterOptions } from './cluster/start-cluster.js';

export type { ClusterOptions } from './cluster/start-cluster.js';

export type { StreamAudit } from './io/relay-runtime.js';
export type { AdminBinding } from './admin/admin-binding.js';
export { DEFAULT_RELAY_LIMITS, type RelayLimits } from './core/relay-limits.js';
export { DEFAULT_GUARD_LIMITS, type GuardLimits } from './core/source-guard.js';

export interface RelayOptions {
  /** Address to listen on for both ports (default 0.0.0.0). */
  host?: string;
  clientPort?: number;
  skeletonPort?: number;
  /** Serve the WebSocket endpoint (both roles, for peers behind HTTPS-only proxies) on this port; off unless given. */
  wsPort?: number;
  /** Its path (default /burrow); peers ask for PATH?role=client or PATH?role=skeleton. */
  wsPath?: string;
  /** Behind a reverse proxy: a WebSocket peer's address is the last X-Forwarded-For entry (for per-source limits). */
  wsTrustForwardedFor?: boolean;
  /** Directory with relay.key.jwk and relay.pub.jwk (default `keys`), unless `identity` is given. */
  keysDir?: string;
  identity?: RelayIdentity;
  usersFile: string;
  limits?: Partial<RelayLimits>;
  /** Brute-force defence: penalties and unauthenticated-connection caps (S6). */
  guard?: Partial<GuardLimits>;
  /** Let skeletons ask for PROXY protocol headers carrying the real client address (default false). */
  allowProxyProtocol?: boolean;
  /** Close a stream after this long without traffic either way; 0 disables (default 6 h). */
  streamIdleMs?: number;
  /** On close(), how long running streams may take to finish (default 30 s). */
  drainMs?: number;
  /**
   * Admin HTTP (health, metrics, JSON API, dashboard): where it listens, or 'off'. Default 127.0.0.1:7002.
   * Anything but loopback needs a token.
   */
  admin?: AdminBinding | 'off' | string;
  /** The admin bearer token, or a file whose first line holds it. */
  adminToken?: string;
  adminTokenFile?: string;
  /** Append one JSON line per finished stream to this file; reopenAuditLog() starts it afresh (logrotate). */
  auditLog?: string;
  /** Concurrent argon2 verifications (default: one less than the cores, 1 to 4). */
  argon2Concurrency?: number;
  /**
   * Join a relay cluster whose shared state lives in Redis: a `redis://HOST:PORT` URL or the full options.
   * Absent: a single relay with its in-memory registry.
   */
  cluster?: string | ClusterOptions;
  /** Public ingress (all off unless given): the address public listeners bind (default `host`). */
  publicHost?: string;
  /** The shared HTTP port, routed by each request's Host. */
  httpPort?: number;
  /** The shared HTTPS port, routed by the ClientHello's SNI and passed through. */
  httpsPort?: number;
  /**
   * One port for everything: the relay's own host name on `httpsPort`, where it terminates TLS with this
   * certificate and key (re-read by reloadTls(), SIGHUP) for its WebSocket endpoint; every other name is
   * still passed through by SNI.
   */
  relayName?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** Ports tcp and udp publications may use: `20000-20999`, `25,587,20000-20099`, or ranges. */
  publicPorts?: string | PortRange[];
  /** A public request head or ClientHello must be complete within this, else the connection is cut (default 10 s). */
  publicHeadTimeoutMs?: number;
  /** Relay-wide caps at the public ports: per source over all of them, and all public connections. */
  publicLimits?: Partial<FrontDoorLimits>;
  /** A udp publication's flow (one public source address and port) ends after this long without a datagram from its source (default 120 s). */
  udpIdleMs?: number;
  /** The clock udp publications' idle times are measured with (tests advance one by hand and sweep). */
  now?: () => number;
  log?: Logger;
}

export interface RelayHandle {
  addresses: { client: AddressInfo; skeleton: AddressInfo; ws?: AddressInfo };
  fingerprint: string;
  runtime: RelayRuntime;
  metrics: RelayMetrics;
  /** Public ingress: the shared ports and the tcp publications' ports now open. */
  ingress: PublicIngress;
  /** The admin HTTP server's address and base URL; absent with admin 'off'. */
  admin?: { address: AddressInfo; url: string };
  /** Reopen the audit log file (after logrotate moved it); a no-op without one. */
  reopenAuditLog(): Promise<void>;
  /** Re-read the one-port mode's TLS certificate and key (SIGHUP); a no-op without relay-name. */
  reloadTls(): Promise<void>;
  /** Reload the users file now (SIGHUP); sessions of removed or disabled accounts end. */
  reloadUsers(): Promise<void>;
  /** Stop accepting, say Goodbye, let streams drain up to drainMs, then close everything. */
  close(opts?: { drainMs?: number; retryAfter?: number }): Promise<void>;
  on(event: 'stream-closed', listener: (audit: StreamAudit) => void): void;
  /** The cluster link (events up, down, resynced, users, revoked) and this relay's id in it; absent on a single relay. */
  cluster?: { link: ClusterLink; relayId: string; advertise: string };
}


export async function startRelay(options: RelayOptions): Promise<RelayHandle> {
  let closing: Promise<void> | undefined;
  const log = options.log ?? silentLogger();
  const identity = options.identity ?? (await loadRelayKeys(options.keysDir ?? 'keys'));
  for (const warning of identity.warnings ?? []) log.warn(warning);
  const binding = typeof options.admin === 'string' ? parseAdminSetting(options.admin, 'admin', 'ERR_CONFIG') : (options.admin ?? parseAdminSetting(DEFAULT_ADMIN, 'admin'));
  const token = options.adminToken !== undefined ? new AdminToken(options.adminToken)
    : options.adminTokenFile !== undefined ? await readAdminToken(options.adminTokenFile, (w) => log.warn(w)) : undefined;
  checkAdminExposure(binding, token !== undefined);
  // Everything started from here on is released by one stack: in reverse order when a later step
  // fails (a busy admin port), and by close() after the drain.
  const cleanups = new CleanupStack();
  const started = await cleanups.guard(async () => {
    const users = await UsersStore.open(options.usersFile, log);
    cleanups.push('users file watch', () => users.close());
    const audit = options.auditLog !== undefined ? await AuditLog.open(options.auditLog, log) : undefined;
    if (audit) cleanups.push('audit log', () => audit.close());
    const argon2Concurrency = options.argon2Concurrency ?? DEFAULT_ARGON2_CONCURRENCY;
    const hasher = new PasswordHasher({ concurrency: argon2Concurrency });
    await hasher.prime();
    // The core queues logins itself (fair, bounded, cancellable) and starts as many as the hasher runs at once.
    const limits = { ...DEFAULT_RELAY_LIMITS, loginConcurrency: argon2Concurrency, ...options.limits };
    const clusterOpts = typeof options.cluster === 'string' ? { url: options.cluster } : options.cluster;
    const host = options.host ?? '0.0.0.0';
    // The runtime needs the bound skeleton address (a cluster advertises it); nothing arrives before it exists.
    let accepting: RelayRuntime | undefined;
    const clientServer = createServer({ allowHalfOpen: true }, (s) => (accepting ? accepting.accept(s, 'client') : s.destroy()));
    const skeletonServer = createServer({ allowHalfOpen: true }, (s) => (accepting ? accepting.accept(s, 'skeleton') : s.destroy()));
    const servers = [clientServer, skeletonServer];
    // Listening sockets stop accepting first on close (pushed last), and are released on a failed start.
    const stopListening = (): Promise<unknown> => Promise.all(servers.map((server) => new Promise<void>((resolve) => {
      if (server.listening) server.close(() => resolve());
      else resolve();
    })));
    cleanups.push('listening sockets', stopListening);
    const addresses = {
      client: await listenOn(clientServer, options.clientPort ?? 7000, host, 'client port'),
      skeleton: await listenOn(skeletonServer, options.skeletonPort ?? 7001, host, 'skeleton port'),
    } as RelayHandle['addresses'];
    let own: OwnName | undefined;
    if (options.relayName !== undefined && (options.httpsPort === undefined || !options.tlsCertFile || !options.tlsKeyFile)) {
      throw new BurrowError('ERR_CONFIG', 'relay-name needs https-port, tls-cert and tls-key: the relay terminates TLS for its own name on the HTTPS port');
    }
    if (options.wsPort !== undefined || options.relayName !== undefined) {
      const ws = await startWsListener({
        host, ...(options.wsPort !== undefined ? { port: options.wsPort } : {}), path: options.wsPath ?? DEFAULT_WS_PATH, trustForwardedFor: options.wsTrustForwardedFor ?? false, log,
        accept: (s, role) => (accepting ? accepting.accept(s, role) : s.destroy()),
      });
      servers.push(ws.server);
      if (ws.address) addresses.ws = ws.address;
      if (options.relayName !== undefined) own = await ownName({ name: options.relayName, certFile: options.tlsCertFile!, keyFile: options.tlsKeyFile! }, ws.server, log);
    }
    // The cluster code (and its Redis client) loads only for a relay that joins a cluster: a module
    // loaded into a process made its splicing dearer here (see bin/program.ts).
    const clusterCode = clusterOpts ? await import('./cluster/start-cluster.js') : undefined;
    const clusterId = clusterOpts && clusterCode ? clusterCode.clusterIdentity(clusterOpts, addresses.skeleton) : undefined;
    const portRanges = typeof options.publicPorts === 'string' ? parsePortRanges(options.publicPorts) : (options.publicPorts ?? []);
    const ingressOffer = { http: options.httpPort !== undefined, https: options.httpsPort !== undefined, ports: portRanges };
    const runtime = new RelayRuntime({
      log, limits, guard: { ...DEFAULT_GUARD_LIMITS, ...options.guard }, allowProxyProtocol: options.allowProxyProtocol ?? false,
      ephemeral: new EphemeralKeyRing(identity.privateKey), identityKey: Buffer.from(identity.publicJwk.x, 'base64url'),
      users, hasher, streamIdleMs: options.streamIdleMs ?? 6 * 3600_000, ...(clusterId ? { cluster: clusterId } : {}),
      ingress: ingressOffer,
    });
    accepting = runtime;
    const ingress = await startIngress(runtime, {
      host: options.publicHost ?? host,
      ...(options.publicHeadTimeoutMs !== undefined ? { headTimeoutMs: options.publicHeadTimeoutMs } : {}),
      ...(options.publicLimits ? { limits: options.publicLimits } : {}),
      ...(options.udpIdleMs !== undefined ? { udpIdleMs: options.udpIdleMs } : {}), ...(options.now ? { now: options.now } : {}),
      ...(own ? { own } : {}), ...(options.httpPort !== undefined ? { httpPort: options.httpPort } : {}), ...(options.httpsPort !== undefined ? { httpsPort: options.httpsPort } : {}),
    }, log);
    cleanups.push('public ingress', () => ingress.close());
    // Connections accepted so far (and any stream still running at the end of a drain) are cut.
    cleanups.push('connections', () => runtime.destroyAll());
    const link = clusterOpts && clusterId && clusterCode ? clusterCode.createClusterLink(clusterOpts, clusterId, identity, runtime, users, log) : undefined;
    if (link) {
      cleanups.push('cluster link', () => link.close());
      link.stats = () => {
        const snap = runtime.snapshot();
        const bytes = runtime.totalBytes();
        return { sessions: snap.sessions.length, servers: snap.servers.length, streams: snap.streams.length, bytesClientToServer: bytes.clientToServer, bytesServerToClient: bytes.serverToClient };
      };
      link.usersChanged(await users.current());
      await link.start();
    }
    if (audit) runtime.on('stream-closed', (a: StreamAudit) => audit.write(a));
    const admin = await startRelayAdmin({
      runtime, users, publicJwk: identity.publicJwk, binding, log, stopping: () => closing !== undefined, ...(token ? { token } : {}), ...(link ? { cluster: link } : {}),
      publications: () => publicationsView(runtime.core.state.publications, ingress.stats, (url) => ingress.udp(url)?.totals()),
      info: { fingerprint: identity.fingerprint, clientPort: addresses.client.port, skeletonPort: addresses.skeleton.port, startedAt: Date.now() },
    });
    cleanups.push('admin', () => admin.close());
    users.watch((db) => {
      runtime.dispatch({ type: 'users-changed', lookup: (name) => db.get(name) });
      link?.usersChanged(db);
    });
    const tick = setInterval(() => runtime.dispatch({ type: 'tick' }), Math.min(1000, limits.pingMs)).unref();
    cleanups.push('tick', () => clearInterval(tick));
    return { addresses, runtime, link, admin, clusterId, audit, users, stopListening, ingress, own };
  });
  const { addresses, runtime, link, admin, clusterId, audit, users, stopListening, ingress, own } = started;
  log.info({ client: addresses.client, skeleton: addresses.skeleton, admin: admin.server?.url ?? 'off', fingerprint: identity.fingerprint }, 'relay listening');

  const close = (opts: { drainMs?: number; retryAfter?: number } = {}): Promise<void> => {
    closing ??= (async () => {
      const drainMs = opts.drainMs ?? options.drainMs ?? 30_000;
      // HTTP connections drain like streams: answers under way finish, within the same deadline.
      const stopped = Promise.all([stopListening(), ingress.close(drainMs)]);
      runtime.run(runtime.core.shutdown(opts.retryAfter ?? 1));
      runtime.publicTunnels.retireAll();
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), drainMs); });
      // Peers end what is idle when they hear Goodbye (a forwarder's idle tunnel); what still carries
      // nothing for a second (an idle ssh session, a stream of a peer that ignores Goodbye) is cut, so
      // the drain waits only for streams that move bytes, or wait (a slow reader, an answer owed) and
      // then for 10 s of silence at most (relay/io/idle-streams.ts).
      runtime.cutIdle(DRAIN_IDLE_MS);
      const sweep = setInterval(() => runtime.cutIdle(DRAIN_IDLE_MS), DRAIN_IDLE_MS / 4);
      const drained = await Promise.race([runtime.drained().then(() => true), deadline]);
      clearTimeout(timer);
      clearInterval(sweep);
      const unfinished = runtime.activeStreams;
      runtime.destroyAll();
      // Streams cut just now still write their audit lines before the file closes.
      await runtime.drained();
      await stopped;
      for (const { what, err } of await cleanups.release()) log.error({ what, err }, 'release failed while stopping');
      log.info({ unfinished, drained }, 'relay stopped');
    })();
    return closing;
  };
  const reloadUsers = async (): Promise<void> => void (await users.reload());
  return {
    addresses, fingerprint: identity.fingerprint, runtime, metrics: admin.metrics, close, reloadUsers, ingress,
    reloadTls: async () => own?.reload(), on: (event, listener) => runtime.on(event, listener),
    reopenAuditLog: async () => audit?.reopen(),
    ...(link && clusterId ? { cluster: { link, ...clusterId } } : {}),
    ...(admin.server ? { admin: { address: admin.server.address, url: admin.server.url } } : {}),
  };
}
