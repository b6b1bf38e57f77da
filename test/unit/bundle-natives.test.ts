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
const NATIVE = ['argon2', 'bufferutil', 'msgpackr-extract'];

test('packages with native addons are required from node_modules by the bundle, not copied into it', async (t) => {
  const text = await readFile(BUNDLE, 'utf8');
  for (const name of NATIVE) {
    t.false(text.includes(`node_modules/${name}/`), `${name} is not bundled`);
  }
  t.regex(text, /require\("bufferutil"\)/, 'ws asks for bufferutil at run time');
});

test('from where the bundle lives, bufferutil resolves to its native addon', (t) => {
  const load = createRequire(BUNDLE);
  const { mask } = load('bufferutil') as { mask: () => void };
  t.regex(String(mask), /\[native code\]/);
});
