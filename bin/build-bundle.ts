/**
 * `npm run bundle` (after tsc): the `burrow` command as installed, in dist/bundle/.
 *
 * - burrow.cjs: every command in one CommonJS script (bin/burrow.ts and what it loads), so that it can
 *   be compiled from a V8 code cache (bin/code-cache.ts); burrow-client.cjs: the same with `client`
 *   alone (bin/burrow-client.ts), half the size, for `burrow client ...` and `burrow --help`. Native addons and their loaders stay outside
 *   (a bundled loader looks for its addon beside the bundle); node:child_process is loaded on first use
 *   (bin/lazy-child-process.cts says why).
 * - burrow.js: the entry (package.json bin, bin/bundle-entry.ts), also CommonJS (dist/bundle/package.json
 *   says so): node's ES module loader would cost every start ~15-20 ms before the first line of burrow.
 *
 * The bundle must be ASCII (esbuild escapes what it can; a comment or a String.raw text it keeps as
 * written): the entry reads it as latin1, a copy, where decoding 1.7 MB of UTF-8 took ~12 ms.
 */
import { build, type BuildOptions } from 'esbuild';
import { isAscii } from 'node:buffer';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { BUNDLES, type BundleFile } from './code-cache.js';

const dist = fileURLToPath(new URL('..', import.meta.url));
const out = `${dist}bundle`;

/** What every bundle shares: CommonJS for node 20, with import.meta.url made from __filename. */
const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  define: { 'import.meta.url': '__burrowImportMetaUrl' },
  banner: { js: "var __burrowImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
};

await rm(out, { recursive: true, force: true });
/** Each bundle's entry (bin/code-cache.ts lists the bundles). */
const ENTRIES: Record<BundleFile, string> = { 'burrow.cjs': 'burrow.js', 'burrow-client.cjs': 'burrow-client.js' };
for (const bundle of BUNDLES) {
  const entry = ENTRIES[bundle];
  await build({
    ...common,
    entryPoints: [`${dist}bin/${entry}`],
    outfile: `${out}/${bundle}`,
    external: ['argon2', 'bufferutil', 'dtrace-provider', 'msgpackr-extract'],
    alias: { 'node:child_process': `${dist}bin/lazy-child-process.cjs` },
  });
  const text = await readFile(`${out}/${bundle}`);
  if (!isAscii(text)) {
    const at = text.findIndex((byte) => byte > 0x7f);
    throw new Error(`dist/bundle/${bundle} is not ASCII at byte ${at}: ${JSON.stringify(text.subarray(Math.max(0, at - 60), at + 20).toString())}; escape it in the source`);
  }
}
await build({ ...common, entryPoints: [`${dist}bin/bundle-entry.js`], outfile: `${out}/burrow.js` });
await writeFile(`${out}/package.json`, '{ "type": "commonjs" }\n');
await Promise.all([chmod(`${out}/burrow.js`, 0o755), chmod(`${dist}bin/burrow.js`, 0o755)]);
