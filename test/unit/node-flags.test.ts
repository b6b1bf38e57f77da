/**
 * NODE_FLAGS is the one list of node options the `burrow` command wants. Whatever starts it and cannot
 * import that list (the shebang, npm start, the sample systemd units, the bench's burrow contender)
 * spells it out; this keeps them all in step.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '../../bin/node-flags.js';

/** Compiled tests live in dist/test/unit/; the project root is three levels up. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FLAGS = NODE_FLAGS.join(' ');
const firstLine = async (path: string): Promise<string> => (await readFile(ROOT + path, 'utf8')).split('\n')[0]!;

test('NODE_FLAGS gives V8 a roomier initial old generation', (t) => {
  t.true(NODE_FLAGS.includes('--initial-old-space-size=64'));
});

/** A node that allocates 2 million short-lived objects in bursts, then prints its new space's size in MiB. */
const BURST = `
let keep = [];
for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 20000) keep = []; }
const space = require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
console.log(space.space_size / 1048576);`;

test('NODE_FLAGS keep the young generation small after a burst of allocation (idle memory), where plain node lets it grow', async (t) => {
  const run = async (flags: readonly string[]): Promise<number> => Number((await promisify(execFile)(process.execPath, [...flags, '-e', BURST])).stdout);
  const [capped, plain] = await Promise.all([run(NODE_FLAGS), run([])]);
  t.true(capped <= 4, `new space ${capped} MiB with NODE_FLAGS`);
  t.true(plain > capped, `plain node's new space (${plain} MiB) grows past the capped one (${capped} MiB)`);
});

test('the burrow command\'s shebang passes NODE_FLAGS, in the source, the built script and its bundle', async (t) => {
  const shebang = `#!/usr/bin/env -S node ${FLAGS}`;
  t.is(await firstLine('bin/burrow.ts'), shebang);
  t.is(await firstLine('bin/bundle-entry.ts'), shebang, 'the entry of the bundle');
  t.is(await firstLine('dist/bin/burrow.js'), shebang);
  t.is(await firstLine('dist/bundle/burrow.js'), shebang, 'the bundle (package.json bin) keeps it');
});

test('npm start, the sample systemd units and the bench contender start node with NODE_FLAGS', async (t) => {
  const pkg = JSON.parse(await readFile(ROOT + 'package.json', 'utf8')) as { scripts: Record<string, string> };
  t.regex(pkg.scripts.start!, new RegExp(`(^|&& )node ${FLAGS} dist/bin/burrow\\.js demo$`));
  for (const role of ['relay', 'skeleton']) {
    const unit = await readFile(`${ROOT}docs/examples/burrow-${role}.service`, 'utf8');
    t.regex(unit, new RegExp(`^ExecStart=/usr/bin/node ${FLAGS} /opt/burrow/dist/bin/burrow\\.js ${role} `, 'm'), `burrow-${role}.service`);
  }
  t.regex(await readFile(ROOT + 'bench/contenders/burrow.sh', 'utf8'), new RegExp(`^BURROW=\\(node ${FLAGS} "\\$ROOT/dist/bin/burrow\\.js"\\)$`, 'm'));
});
