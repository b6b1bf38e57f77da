/**
 * The process's own metrics (CPU, memory, heap, event-loop delay), one registry per process and merged
 * into each relay's output at scrape time: they describe the process, not one relay. Written here
 * rather than prom-client's collectDefaultMetrics, whose module loads @opentelemetry/api (see prom.ts).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Registry } from './prom.js';

let registry: Registry | undefined;

export function processMetrics(): Registry {
  if (registry) return registry;
  registry = new Registry();
  const registers = [registry];
  new Counter({
    name: 'burrow_process_cpu_seconds_total', help: 'User and system CPU time of the process', registers,
    collect() {
      const { user, system } = process.cpuUsage();
      this.reset();
      this.inc((user + system) / 1e6);
    },
  });
  new Gauge({ name: 'burrow_process_resident_memory_bytes', help: 'Resident set size', registers, collect() { this.set(process.memoryUsage.rss()); } });
  new Gauge({
    name: 'burrow_nodejs_heap_bytes', help: 'V8 heap, used and total', labelNames: ['kind'], registers,
    collect() {
      const { heapUsed, heapTotal } = process.memoryUsage();
      this.set({ kind: 'used' }, heapUsed);
      this.set({ kind: 'total' }, heapTotal);
    },
  });
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  new Gauge({
    name: 'burrow_nodejs_eventloop_delay_seconds', help: 'Event-loop delay since the last scrape, by quantile', labelNames: ['quantile'], registers,
    collect() {
      for (const q of [0.5, 0.99]) this.set({ quantile: String(q) }, delay.count > 0 ? delay.percentile(q * 100) / 1e9 : 0);
      this.set({ quantile: '1' }, delay.count > 0 ? delay.max / 1e9 : 0);
      delay.reset();
    },
  });
  return registry;
}
