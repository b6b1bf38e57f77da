/**
 * The bundle as one V8 script with a code cache. The `burrow` command is a CommonJS bundle
 * (dist/bundle/burrow.cjs) that its entry (bin/bundle-entry.ts) compiles with node:vm from the code
 * cache made at build time (bin/make-code-cache.ts): V8 then skips parsing and compiling what the cache
 * holds, most of what a short command such as `client stdio` spends before its first byte. The cache is
 * checked by V8 against this exact source text, V8's version and node's flags; a cache that does not
 * match (another node, other flags, none at all) is ignored and the script compiles as usual. The
 * bundle holds no dynamic import(): node:vm would need an experimental loader for it, which a script
 * compiled from a cache does not even keep on Node 20 (the build checks, bin/make-code-cache.ts).
 */
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import { Script } from 'node:vm';

/**
 * The bundles (bin/build-bundle.ts): every command, and `client` alone, which also serves a command
 * line naming no command (the overview needs no command's module).
 */
export const BUNDLES = ['burrow.cjs', 'burrow-client.cjs'] as const;
export type BundleFile = (typeof BUNDLES)[number];

/** The words of `args` (process.argv without node and the script) that are not options: command, subcommand, ... */
export function commandWords(args: readonly string[]): string[] {
  return args.filter((arg) => !arg.startsWith('-'));
}

/** The bundle that runs `args`. */
export function bundleFor(args: readonly string[]): BundleFile {
  const [command] = commandWords(args);
  return command === undefined || command === 'client' ? 'burrow-client.cjs' : 'burrow.cjs';
}

type Wrapped = (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;

/** The bundle's text as one script: CommonJS's own wrapper, the shebang line emptied (line numbers kept). */
export function bundleScript(file: string, source: string, cachedData?: Buffer): Script {
  const body = source.replace(/^#!.*/, '');
  return new Script(`(function (exports, require, module, __filename, __dirname) {${body}\n})`, {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
  });
}

/** Runs the compiled bundle as node runs a CommonJS module. */
export function runBundle(script: Script, file: string): void {
  const wrapped = script.runInThisContext() as Wrapped;
  const module = { exports: {} };
  wrapped.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
}
