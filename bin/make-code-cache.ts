/**
 * `npm run build`'s last step: makes dist/bundle/burrow.cjs.cache and burrow-client.cjs.cache, the code
 * cache of each whole bundle (bin/code-cache.ts). V8 compiles functions lazily, on first call, and a cache holds only what was
 * compiled; so the bundle is compiled once with lazy compilation off (every function of every command),
 * and the cache written with it back on, under NODE_FLAGS: V8 accepts a cache only under the flags it
 * was made with, and the shebang starts node with those. A fresh node then checks that V8 accepts it: a
 * rejected cache fails the build instead of silently making every start slower.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BUNDLES } from './code-cache.js';
import { NODE_FLAGS } from './node-flags.js';

const codeCache = JSON.stringify(new URL('./code-cache.js', import.meta.url).href);
const node = (script: string): string => execFileSync(process.execPath, [...NODE_FLAGS, '--input-type=module', '-e', script], { encoding: 'utf8' });

for (const name of BUNDLES) {
  const bundle = fileURLToPath(new URL(`../bundle/${name}`, import.meta.url));
  const cache = `${bundle}.cache`;
  const [file, out] = [JSON.stringify(bundle), JSON.stringify(cache)];

  // A script compiled from a cache cannot import() on Node 20 (bin/code-cache.ts): keep the bundle free of it.
  const dynamic = /[^\w.$]import\(/.exec(readFileSync(bundle, 'utf8'));
  if (dynamic) throw new Error(`${name} has a dynamic import() at offset ${dynamic.index}: require() the package instead`);

  node(`
import v8 from 'node:v8';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
const { bundleScript } = await import(${codeCache});
v8.setFlagsFromString('--no-lazy');
const script = bundleScript(${file}, readFileSync(${file}, 'utf8'));
v8.setFlagsFromString('--lazy');
writeFileSync(${out} + '.tmp', script.createCachedData());
renameSync(${out} + '.tmp', ${out});`);
  const rejected = node(`
import { readFileSync } from 'node:fs';
const { bundleScript } = await import(${codeCache});
process.stdout.write(String(bundleScript(${file}, readFileSync(${file}, 'utf8'), readFileSync(${out})).cachedDataRejected));`);
  if (rejected !== 'false') throw new Error(`V8 rejects the code cache ${cache} (cachedDataRejected: ${rejected})`);
}
