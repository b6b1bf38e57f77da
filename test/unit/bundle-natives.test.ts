/**
 * The `burrow` command is one esbuild bundle (dist/bundle/burrow.cjs, run by dist/bundle/burrow.js). A package with a
 * native addon finds its compiled part relative to its own directory (`node-gyp-build(__dirname)`),
 * which a bundled copy no longer has (it gets the bundle's own): bundled, bufferutil
 * silently fell back to masking WebSocket frames in JavaScript, ~9 CPU-s per GiB. Such packages stay
 * outside the bundle and load from node_modules, where their addon is.
 */
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BUNDLE = `${ROOT}dist/bundle/burrow.cjs`;
const CLIENT_BUNDLE = `${ROOT}dist/bundle/burrow-client.cjs`;
const NATIVE = ['argon2', 'bufferutil', 'msgpackr-extract'];

test('packages with native addons are required from node_modules by the bundles, not copied into them', async (t) => {
  for (const file of [BUNDLE, CLIENT_BUNDLE]) {
    const text = await readFile(file, 'utf8');
    for (const name of NATIVE) {
      t.false(text.includes(`node_modules/${name}/`), `${name} is not bundled in ${file}`);
    }
    t.regex(text, /require\("bufferutil"\)/, `ws asks for bufferutil at run time (${file})`);
  }
});

test('the client bundle holds the client and what it shares, none of the relay, the skeleton or their packages', async (t) => {
  const text = await readFile(CLIENT_BUNDLE, 'utf8');
  t.regex(text, /^\/\/ dist\/client\/cli\.js$/m, 'the client is in it');
  for (const part of ['dist/relay/', 'dist/skeleton/', 'node_modules/ioredis/', 'node_modules/prom-client/']) {
    t.false(text.includes(`// ${part}`), `${part} is not in it`);
  }
});

test('from where the bundle lives, bufferutil resolves to its native addon', (t) => {
  const load = createRequire(BUNDLE);
  const { mask } = load('bufferutil') as { mask: () => void };
  t.regex(String(mask), /\[native code\]/);
});
