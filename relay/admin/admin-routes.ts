/**
 * The admin routes. Public: /healthz, the relay's public key and relay.json under /.well-known/burrow/
 * (what `burrow client trust` fetches), and the dashboard's static page (it holds no data and asks for
 * the token itself). Everything else needs the token when one is configured.
 */
import type { Ed25519PublicJwk } from '../../shared/crypto/fingerprint.js';
import { PROTOCOL_VERSION } from '../../shared/protocol/messages.js';
import type { RelayRuntime } from '../io/relay-runtime.js';
import type { UsersStore } from '../io/users-store.js';
import { isValidUserName } from '../users/user-record.js';
import { setUserDisabled } from '../users/set-disabled.js';
import { json, jsonError } from './admin-http.js';
import type { AdminRoute } from './admin-server.js';
import type { AdminViews, RelayInfo } from './admin-views.js';
import { dashboardPage } from './dashboard-page.js';
import type { RelayMetrics } from './relay-metrics.js';
import type { ClusterView } from './relay-admin.js';

export interface RouteDeps {
  runtime: RelayRuntime;
  views: AdminViews;
  metrics: RelayMetrics;
  users: UsersStore;
  publicJwk: Ed25519PublicJwk;
  info: RelayInfo;
  stopping: () => boolean;
  cluster?: ClusterView;
}

const get = (path: RegExp, handle: AdminRoute['handle'], isPublic = false): AdminRoute => ({ method: 'GET', path, handle, ...(isPublic ? { public: true } : {}) });
const post = (path: RegExp, handle: AdminRoute['handle']): AdminRoute => ({ method: 'POST', path, handle });

export function adminRoutes(d: RouteDeps): AdminRoute[] {
  const disable = (disabled: boolean) => async ({ name = '' }: Record<string, string>) => {
    if (!isValidUserName(name)) return jsonError(404, 'ERR_NOT_FOUND');
    // In a cluster the account may be newer (or only) in the cluster: the change is made to that record.
    const result = await setUserDisabled(d.users.path, name, disabled, (await d.users.current()).get(name));
    if (result === 'unknown') return jsonError(404, 'ERR_NOT_FOUND');
    // Reload now rather than wait for the file watcher: the account's sessions have ended when we answer.
    if (result === 'changed') await d.users.reload();
    return json({ user: name, disabled, changed: result === 'changed' });
  };
  return [
    get(/^\/healthz$/, () => (d.stopping() ? json({ status: 'stopping' }, 503) : json({ status: 'ok' })), true),
    get(/^\/\.well-known\/burrow\/relay\.pub\.jwk$/, () => ({ ...json(d.publicJwk), contentType: 'application/jwk+json' }), true),
    get(/^\/\.well-known\/burrow\/relay\.json$/, () => json({
      fingerprint: d.info.fingerprint, clientPort: d.info.clientPort, skeletonPort: d.info.skeletonPort, protocolVersion: PROTOCOL_VERSION,
    }), true),
    get(/^\/(?:dashboard)?$/, () => dashboardPage(), true),
    // Browsers ask for it; no icon, and no 404 in the console.
    get(/^\/favicon\.ico$/, () => ({ status: 204, body: '', contentType: 'image/x-icon' }), true),
    get(/^\/metrics$/, async () => ({ status: 200, body: await d.metrics.text(), contentType: d.metrics.contentType })),
    get(/^\/api\/overview$/, () => json(d.views.overview())),
    get(/^\/api\/servers$/, () => json({ servers: d.views.servers() })),
    get(/^\/api\/sessions$/, () => json({ sessions: d.views.sessions() })),
    get(/^\/api\/streams$/, () => json({ streams: d.views.streams() })),
    get(/^\/api\/publications$/, () => json({ publications: d.views.publications() })),
    get(/^\/api\/cluster$/, async () => (d.cluster ? json(await d.cluster.view()) : jsonError(404, 'ERR_NOT_FOUND'))),
    get(/^\/api\/(?:failed-logins|events)$/, () => json({ failedLogins: d.views.failedLogins() })),
    post(/^\/api\/sessions\/(?<id>[A-Za-z0-9_-]{1,64})\/disconnect$/, ({ id = '' }) =>
      (d.runtime.disconnect(id) ? json({ session: id, disconnected: true }) : jsonError(404, 'ERR_NOT_FOUND'))),
    post(/^\/api\/streams\/(?<id>\d{1,15})\/close$/, ({ id = '' }) =>
      (d.runtime.closeStream(Number(id)) ? json({ stream: Number(id), closed: true }) : jsonError(404, 'ERR_NOT_FOUND'))),
    post(/^\/api\/users\/(?<name>[^/]{1,64})\/disable$/, disable(true)),
    post(/^\/api\/users\/(?<name>[^/]{1,64})\/enable$/, disable(false)),
  ];
}
