/**
 * The `burrow` command runs its bundle from a V8 code cache made by the build (bin/code-cache.ts,
 * bin/make-code-cache.ts): V8 accepts that cache under the flags the command's shebang starts node with,
 * and a missing or damaged cache only costs time, never the command.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { NODE_FLAGS } from '../../bin/node-flags.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BUNDLE = `${ROOT}dist/bundle/burrow.cjs`;
const CLIENT_BUNDLE = `${ROOT}dist/bundle/burrow-client.cjs`;
const CODE_CACHE = new URL('../../bin/code-cache.js', import.meta.url).href;

/** Whether V8 rejects `cache` for `bundle` in a fresh node started with `flags`. */
async function rejected(flags: readonly string[], cache: string, bundle = BUNDLE): Promise<string> {
  const script = `import { readFileSync } from 'node:fs';
const { bundleScript } = await import(${JSON.stringify(CODE_CACHE)});
process.stdout.write(String(bundleScript(${JSON.stringify(bundle)}, readFileSync(${JSON.stringify(bundle)}, 'utf8'), readFileSync(${JSON.stringify(cache)})).cachedDataRejected));`;
  return (await run(process.execPath, [...flags, '--input-type=module', '-e', script])).stdout;
}

test('V8 accepts the built code cache under NODE_FLAGS, and it holds the whole bundle (not only what one command compiled)', async (t) => {
  for (const file of [BUNDLE, CLIENT_BUNDLE]) {
    t.is(await rejected(NODE_FLAGS, `${file}.cache`, file), 'false', file);
    // Compiled eagerly: larger than the bundle's own text; a cache of one command's run is a fraction of it.
    const [cache, bundle] = await Promise.all([readFile(`${file}.cache`), readFile(file)]);
    t.true(cache.length > bundle.length, `${file}: cache ${cache.length} bytes, bundle ${bundle.length}`);
  }
});

test('without its cache, or with a damaged one, the command still runs', async (t) => {
  // Beside the real bundle's directory, so that node_modules resolves as it does for dist/bundle.
  const dir = await mkdtemp(`${ROOT}dist/bundle-test-`);
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await Promise.all(['burrow.js', 'burrow.cjs', 'burrow-client.cjs', 'package.json'].map((name) => copyFile(`${ROOT}dist/bundle/${name}`, `${dir}/${name}`)));
  // --version runs the client bundle (it names no command), `keys --help` the whole one.
  const version = async (): Promise<string> => (await run(process.execPath, [...NODE_FLAGS, `${dir}/burrow.js`, '--version'])).stdout.trim();
  const keysHelp = async (): Promise<string> => (await run(process.execPath, [...NODE_FLAGS, `${dir}/burrow.js`, 'keys', '--help'])).stdout;
  const expected = (JSON.parse(await readFile(`${ROOT}package.json`, 'utf8')) as { version: string }).version;
  t.is(await version(), expected, 'no cache');
  t.regex(await keysHelp(), /^Usage: burrow keys/m, 'no cache');
  await Promise.all(['burrow.cjs.cache', 'burrow-client.cjs.cache'].map((name) => writeFile(`${dir}/${name}`, Buffer.alloc(4096, 7))));
  t.is(await version(), expected, 'a cache of garbage');
  t.regex(await keysHelp(), /^Usage: burrow keys/m, 'a cache of garbage');
  t.is(await rejected(NODE_FLAGS, `${dir}/burrow.cjs.cache`), 'true', 'which V8 refused');
});
