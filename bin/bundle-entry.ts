#!/usr/bin/env -S node --initial-old-space-size=64 --max-semi-space-size=2
/**
 * The `burrow` command as installed (package.json bin, dist/bundle/burrow.js): runs the bundle beside it
 * that the command line needs (burrow-client.cjs for `client` and for none, else burrow.cjs) from the
 * V8 code cache the build made for it (bin/code-cache.ts says why). The shebang
 * passes NODE_FLAGS (bin/node-flags.ts), which the cache was made under.
 */
import { isAscii } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleFor, bundleScript, commandWords, runBundle } from './code-cache.js';

/**
 * The long-running commands start without the cache: it holds every command's compiled code, which a
 * daemon would keep in memory for good (~4.5 MB per process) to start ~60 ms sooner, once.
 */
function longRunning(args: string[]): boolean {
  const [command, sub] = commandWords(args);
  return command === 'relay' || command === 'skeleton' || command === 'demo' || (command === 'client' && sub === 'connect');
}

const args = process.argv.slice(2);
const file = fileURLToPath(new URL(`./${bundleFor(args)}`, import.meta.url));
const daemon = longRunning(args);
let cachedData: Buffer | undefined;
try {
  cachedData = daemon ? undefined : readFileSync(`${file}.cache`);
} catch {
  cachedData = undefined; // no cache: V8 compiles as usual
}
// A short command decodes a handful of small messages: msgpackr's native string extractor (a shared
// library loaded at start, ~10 ms) pays only on large string-heavy ones, so only daemons load it.
if (!daemon) process.env.MSGPACKR_NATIVE_ACCELERATION_DISABLED ??= 'true';
// The build keeps the bundle ASCII, which latin1 reads as a copy (UTF-8 decoding took ~12 ms); a bundle
// changed by hand since is decoded as UTF-8.
const bytes = readFileSync(file);
runBundle(bundleScript(file, isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8'), cachedData), file);
