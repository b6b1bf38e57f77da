/**
 * The node options the `burrow` command runs with: bin/burrow.ts's shebang
 * (`#!/usr/bin/env -S node --initial-old-space-size=64`) passes them, and code that starts
 * dist/bin/burrow.js with node explicitly (test helpers, the soak and load benches) passes these.
 *
 * --initial-old-space-size=64: V8 starts with a tight old-generation limit, and a relay, skeleton or
 * forwarder whose live heap (~9 MB) sits just above it runs incremental marking and mark-compact over
 * and over while it splices (64 mark-compacts in a 4 s iperf3 transfer, ~1.7x the CPU per byte). node
 * refuses the flag in NODE_OPTIONS, and v8.setFlagsFromString at startup is too late, so it has to be on
 * node's own command line. A test keeps the shebang, the sample systemd units and the bench contender
 * in step with this list (DEPLOY.md, section 9).
 */
export const NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];
