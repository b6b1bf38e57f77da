/**
 * Prometheus metrics of public ingress, per publication url (and per shared port for refusals before
 * a publication is known): connections, open connections, bytes each way of finished streams, and
 * refusals by reason. Read from the counters at scrape time. The label set is bounded: urls exist only
 * as grants allow, and PublicStats keeps a bounded number of entries.
 */
import { Counter, Gauge } from './prom.js';
import type { Registry } from './prom.js';
import type { PublicationView } from './publications-view.js';

export function publicationMetrics(registers: Registry[], read: () => PublicationView[]): void {
  // One read per scrape, shared by the metrics.
  let cached: PublicationView[] | undefined;
  const views = (): PublicationView[] => {
    if (!cached) {
      cached = read();
      queueMicrotask(() => (cached = undefined));
    }
    return cached;
  };
  new Counter({
    name: 'burrow_public_connections_total', help: 'Public connections joined to their home server, by publication', labelNames: ['publication'], registers,
    collect() {
      this.reset();
      for (const v of views()) if (v.connections > 0) this.inc({ publication: v.url }, v.connections);
    },
  });
  new Gauge({
    name: 'burrow_public_connections_open', help: 'Public connections open now, by publication', labelNames: ['publication'], registers,
    collect() {
      this.reset();
      for (const v of views()) if (v.server !== undefined || v.open > 0) this.set({ publication: v.url }, v.open);
    },
  });
  new Counter({
    name: 'burrow_public_bytes_total', help: 'Bytes of finished public connections, by publication and direction', labelNames: ['publication', 'direction'], registers,
    collect() {
      this.reset();
      for (const v of views()) {
        if (v.bytesClientToServer > 0) this.inc({ publication: v.url, direction: 'client_to_server' }, v.bytesClientToServer);
        if (v.bytesServerToClient > 0) this.inc({ publication: v.url, direction: 'server_to_client' }, v.bytesServerToClient);
      }
    },
  });
  new Counter({
    name: 'burrow_public_udp_datagrams_total', help: 'Datagrams of udp publications since their port opened, by publication and direction', labelNames: ['publication', 'direction'], registers,
    collect() {
      this.reset();
      for (const v of views()) {
        if (!v.udp) continue;
        this.inc({ publication: v.url, direction: 'client_to_server' }, v.udp.datagramsClientToServer);
        this.inc({ publication: v.url, direction: 'server_to_client' }, v.udp.datagramsServerToClient);
      }
    },
  });
  new Counter({
    name: 'burrow_public_udp_dropped_total', help: 'Datagrams of udp publications dropped under congestion since their port opened, by publication', labelNames: ['publication'], registers,
    collect() {
      this.reset();
      for (const v of views()) if (v.udp) this.inc({ publication: v.url }, v.udp.dropped);
    },
  });
  new Gauge({
    name: 'burrow_public_udp_flows_open', help: 'Flows (public source address and port) of udp publications open now', labelNames: ['publication'], registers,
    collect() {
      this.reset();
      for (const v of views()) if (v.udp) this.set({ publication: v.url }, v.udp.flows);
    },
  });
  new Counter({
    name: 'burrow_public_refusals_total', help: 'Public connections refused, by publication (or shared port) and reason', labelNames: ['publication', 'reason'], registers,
    collect() {
      this.reset();
      for (const v of views()) {
        for (const [reason, n] of Object.entries(v.refusals)) this.inc({ publication: v.url, reason: reason.replace(/-/g, '_') }, n);
      }
    },
  });
}
