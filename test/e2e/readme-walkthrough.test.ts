/**
 * README.md's "three roles in five minutes" and `burrow demo`'s printed commands, run as written: the
 * commands are read from the README itself (between its walkthrough markers) and from the demo's own
 * output, so neither can drift from what works. One substitution (test/helpers/walkthrough.ts): ports
 * the text fixes (7000, 7001, 8080, 8081) become free ones the processes report, and the README's web
 * server on 127.0.0.1:8000 is this test's own.
 */
import test from 'ava';
import { access, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { spawnCli, type CliResult } from '../helpers/cli-process.js';
import { burrowOnPath, markedShellLines, shellLines, walk } from '../helpers/walkthrough.js';
import { tempDir } from '../helpers/world.js';

/** Compiled tests live in dist/test/e2e/; the README at the project root. */
const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

async function webServer(t: import('ava').ExecutionContext, body: string): Promise<number> {
  const server = createServer((_req, res) => res.end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

test("the README's separate-process walk-through, run as written, serves the web page through the forwarder", async (t) => {
  const lines = markedShellLines(await readFile(README, 'utf8'), '<!-- walkthrough:', '<!-- walkthrough end -->');
  for (const step of [/^burrow keys generate /, /^burrow users add home /, /^burrow relay /, /^burrow skeleton /, /^burrow client list /, /^burrow client connect /, /^curl /]) {
    t.true(lines.some((l) => step.test(l)), `the walk-through has a step ${step}`);
  }
  const body = 'hello from home, through the README\n';
  const w = walk(t, { cwd: await tempDir(t), bin: await burrowOnPath(t) });
  w.addresses.set('127.0.0.1:8000', `127.0.0.1:${await webServer(t, body)}`);
  const results: [string, CliResult | undefined][] = [];
  for (const line of lines) results.push([line, await w.run(line)]);

  const list = results.find(([line]) => line.startsWith('burrow client list'))?.[1];
  t.regex(list?.stdout ?? '', /^home-http\thttp\t/m);
  const curl = results.at(-1)!;
  t.regex(curl[0], /^curl /, 'the walk-through ends with the curl');
  t.is(curl[1]?.stdout, body);
});

test("burrow demo's printed commands run as printed while it runs; Ctrl-C then removes its folder", async (t) => {
  const demo = spawnCli(t, ['demo', '--port', '0'], { cwd: await tempDir(t) });
  await demo.waitForLine(/^Press Ctrl-C to stop\./);
  const out = demo.stdout();
  const dir = /throwaway keys and users in (\S+)\)/.exec(out)?.[1] ?? '';
  const printed = out.slice(out.indexOf('The same setup as separate processes'), out.indexOf('Press Ctrl-C'));
  const lines = shellLines(printed.split('\n').filter((l) => l.startsWith('  ')).join('\n'));
  t.deepEqual(lines.map((l) => l.split(' ').slice(0, 3).join(' ')), [
    'burrow relay --host', 'burrow skeleton --relay', 'burrow client list', 'burrow client connect', 'curl http://127.0.0.1:8081/',
  ]);
  t.false(/RELAY:|SHA256:\.\.\./.test(printed), 'no placeholder left to fill in');

  const w = walk(t, { cwd: await tempDir(t), bin: await burrowOnPath(t) });
  let last: CliResult | undefined;
  for (const line of lines) last = await w.run(line);
  t.regex(last?.stdout ?? '', /Hello from behind the NAT/);

  demo.child.kill('SIGINT');
  t.is((await demo.exited).code, 0);
  await t.throwsAsync(access(dir), undefined, `Ctrl-C removed ${dir}, as the demo says`);
});
