/**
 * Every command and subcommand of the real `burrow`: `--help` exits 0 and ends with an Examples block
 * holding at least one `burrow ...` line. The tree is walked from the program itself, so a new command
 * without examples fails here.
 */
import test from 'ava';
import type { Command } from 'commander';
import { ALL_COMMANDS } from '../../bin/all-commands.js';
import { buildProgram } from '../../bin/program.js';
import { runCli } from '../helpers/cli-process.js';

function paths(cmd: Command, prefix: string[] = []): string[][] {
  const own = prefix.length === 0 ? [[]] : [prefix];
  return [...own, ...cmd.commands.filter((c) => c.name() !== 'help').flatMap((c) => paths(c, [...prefix, c.name()]))];
}

const ALL = paths(await buildProgram(ALL_COMMANDS));

test('the walk finds every command', (t) => {
  const names = ALL.map((p) => p.join(' '));
  for (const expected of ['', 'relay', 'skeleton', 'client', 'client list', 'client connect', 'client stdio', 'client trust', 'keys generate', 'users add', 'users list', 'secret generate', 'demo']) {
    t.true(names.includes(expected), `walk includes "${expected}"`);
  }
  t.true(ALL.length >= 20, String(ALL.length));
});

test('--help on every command exits 0 and shows an example', async (t) => {
  const results = await Promise.all(ALL.map(async (path) => ({ path, run: await runCli([...path, '--help']) })));
  for (const { path, run } of results) {
    const name = `burrow ${path.join(' ')}`.trim();
    t.is(run.code, 0, `${name} --help exit code\n${run.stderr}`);
    t.regex(run.stdout, /^Usage: burrow/m, name);
    const examples = run.stdout.slice(run.stdout.lastIndexOf('\nExamples:\n'));
    t.true(run.stdout.includes('\nExamples:\n'), `${name} has an Examples block`);
    t.regex(examples, new RegExp(`^ {2}burrow ${path.join(' ')}`.trimEnd(), 'm'), `${name}: an example line runs this command`);
  }
});

// client list --json is checked against a real relay in cli.test.ts, users list --json in unit/cli-admin.test.ts.

test('what commander refuses is one burrow error line with ERR_USAGE and exit 2', async (t) => {
  for (const args of [['--bogus'], ['relay', '--clent-port', '7000'], ['client', 'stdio'], ['bogus-cmd']]) {
    const run = await runCli(args);
    t.is(run.code, 2, args.join(' '));
    const lines = run.stderr.trimEnd().split('\n');
    t.is(lines.length, 1, `${args.join(' ')}: one line\n${run.stderr}`);
    t.regex(lines[0]!, /^burrow: .+: run with --help for usage \[ERR_USAGE\]$/, args.join(' '));
  }
  t.regex((await runCli(['relay', '--clent-port', '7000'])).stderr, /Did you mean --client-port\?/);
});
