/**
 * The relay's admin side, started with it: metrics, recent failed logins, the admin HTTP server and
 * the views it serves. Stays out of the protocol: it only reads the runtime and calls its actions.
 */
import type { Ed25519PublicJwk } from '../../shared/crypto/fingerprint.js';
import type { Logger } from '../../shared/log.js';
import type { RelayRuntime } from '../io/relay-runtime.js';
import type { UsersStore } from '../io/users-store.js';
import { checkAdminExposure, type AdminBinding } from './admin-binding.js';
import { adminRoutes } from './admin-routes.js';
import { startAdminServer, type AdminServer } from './admin-server.js';
import type { AdminToken } from './admin-token.js';
import { AdminViews, type RelayInfo } from './admin-views.js';
import { FailedLogins } from './failed-logins.js';
import { RelayMetrics } from './relay-metrics.js';

/** What the admin API shows of the cluster (relay/cluster's link). */
import type { PublicationView } from './publications-view.js';

export interface ClusterView {
  view(): Promise<object>;
}

export interface RelayAdmin {
  metrics: RelayMetrics;
  failedLogins: FailedLogins;
  /** Absent with admin off. */
  server?: AdminServer;
  close(): Promise<void>;
}

export async function startRelayAdmin(opts: {
  runtime: RelayRuntime; users: UsersStore; publicJwk: Ed25519PublicJwk; info: RelayInfo; binding: AdminBinding | 'off'; token?: AdminToken;
  log: Logger; stopping: () => boolean; cluster?: ClusterView;
  /** Public ingress: publications with their counters. */
  publications?: () => PublicationView[];
}): Promise<RelayAdmin> {
  const { runtime, binding, token, log } = opts;
  checkAdminExposure(binding, token !== undefined);
  const publications = opts.publications ?? (() => []);
  const metrics = new RelayMetrics(runtime, { publications });
  const failedLogins = new FailedLogins();
  runtime.on('note', (note) => failedLogins.record(note));
  if (binding === 'off') return { metrics, failedLogins, close: async () => undefined };
  const views = new AdminViews(runtime, failedLogins, opts.info, publications);
  const routes = adminRoutes({ runtime, views, metrics, users: opts.users, publicJwk: opts.publicJwk, info: opts.info, stopping: opts.stopping, ...(opts.cluster ? { cluster: opts.cluster } : {}) });
  const server = await startAdminServer({ binding, routes, log: log.child({ role: 'admin' }), ...(token ? { token } : {}) });
  return { metrics, failedLogins, server, close: () => server.close() };
}
