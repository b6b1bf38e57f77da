/**
 * The node options the `burrow` command runs with: bin/burrow.ts's shebang
 * (`#!/usr/bin/env -S node --initial-old-space-size=64 --max-semi-space-size=2`) passes them, and code that starts
 * dist/bin/burrow.js with node explicitly (test helpers, the soak and load benches) passes these.
 *
 * --initial-old-space-size=64: V8 starts with a tight old-generation limit, and a relay, skeleton or
 * forwarder whose live heap (~9 MB) sits just above it runs incremental marking and mark-compact over
 * and over while it splices (64 mark-compacts in a 4 s iperf3 transfer, ~1.7x the CPU per byte). node
 * refuses the flag in NODE_OPTIONS, and v8.setFlagsFromString at startup is too late, so it has to be on
 * node's own command line. A test keeps the shebang, the sample systemd units and the bench contender
 * in step with this list (DEPLOY.md, section 9).
 *
 * --max-semi-space-size=2: V8 lets the young generation grow to 16 MiB per semi-space (32 MiB of new
 * space per process) after a burst of allocation, such as opening a thousand connections, and keeps
 * it: with three processes per tunnel that was most of the memory an idle connection seemed to cost
 * (15-22 KiB each at 1,000, against 7-15 with a 2 MiB cap, docs/BENCHMARKS.md). Bulk transfer and keep-alive request
 * rates did not move beyond this machine's noise with the cap (docs/BENCHMARKS.md); payload bytes live
 * outside V8's heap, so a scavenge has little to copy.
 */
export const NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64', '--max-semi-space-size=2'];
