/**
 * Publications as the admin API, the dashboard and the metrics show them: each url with its server,
 * account, rules and counters (connections, open, bytes each way, refusals by reason), and the shared
 * ports' own counters (refusals before a publication was known: unknown names, slow heads, caps). A udp
 * publication whose port is open also shows its flows (`udp`): open and in all, datagrams each way and
 * datagrams dropped, counted since its port opened.
 */
import type { PublicationRegistry } from '../core/publication-registry.js';
import type { PublicStats, PublicationCounters } from '../public/public-stats.js';
import type { FlowTotals } from '../../shared/udp/flow-table.js';

export interface UdpView {
  flows: number;
  flowsTotal: number;
  datagramsClientToServer: number;
  datagramsServerToClient: number;
  dropped: number;
}

export interface PublicationView extends PublicationCounters {
  url: string;
  /** Absent for a shared port's own counters (`http`, `https`) and for a publication gone since. */
  server?: string;
  account?: string;
  sessions?: number;
  since?: string;
  rules?: object;
  udp?: UdpView;
}

const EMPTY: PublicationCounters = { connections: 0, open: 0, bytesClientToServer: 0, bytesServerToClient: 0, refusals: {} };

export function publicationsView(registry: PublicationRegistry, stats: PublicStats, udp: (url: string) => FlowTotals | undefined = () => undefined): PublicationView[] {
  const live = registry.all().map((pub): PublicationView => {
    const flows = udp(pub.url);
    return {
      url: pub.url, server: pub.server, account: pub.user, sessions: pub.holders.length, since: new Date(pub.since).toISOString(), rules: pub.rules,
      ...(stats.get(pub.url) ?? EMPTY),
      ...(flows ? {
        udp: { flows: flows.active, flowsTotal: flows.total, datagramsClientToServer: flows.datagramsIn, datagramsServerToClient: flows.datagramsOut, dropped: flows.dropped },
      } : {}),
    };
  });
  const known = new Set(live.map((p) => p.url));
  const rest = stats.all().filter(([key]) => !known.has(key)).map(([url, counters]): PublicationView => ({ url, ...counters }));
  return [...live, ...rest].sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
}
