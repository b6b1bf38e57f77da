/**
 * prom-client's metric classes, loaded file by file: its main entry also loads its default process
 * collectors and, through them, @opentelemetry/api. Loading only that package into an old relay build
 * raised the relay's CPU for a 4 s iperf3 transfer through it from ~1.0 to ~1.7 s (bench notes in
 * docs/BENCHMARKS.md); the cause inside Node was not found. process-metrics.ts replaces the collectors.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

const load = createRequire(import.meta.url);

export const Registry = load('prom-client/lib/registry') as typeof PromClient.Registry;
export const Counter = load('prom-client/lib/counter') as typeof PromClient.Counter;
export const Gauge = load('prom-client/lib/gauge') as typeof PromClient.Gauge;
export const Histogram = load('prom-client/lib/histogram') as typeof PromClient.Histogram;
export type Registry = PromClient.Registry;
