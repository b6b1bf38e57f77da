/**
 * Runs shell lines the way a user pastes them from the README or from `burrow demo`: each line through
 * bash, with `burrow` on PATH (a link to the built command, the way `npm link` makes one), in one folder.
 * The relay, the skeleton and `client connect` keep running (each waits for its ready line); anything
 * else must exit 0. The one substitution, so tests run in parallel on any machine: the relay listens on
 * port 0 (`--client-port 0 --skeleton-port 0` appended, admin on 127.0.0.1:0) and a forwarder on
 * `--listen 127.0.0.1:0` (appended); later lines get the ports they printed instead of the ones written.
 */
import type { ExecutionContext } from 'ava';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI_PATH, runCli, spawnCli, type CliResult } from './cli-process.js';
import { tempDir } from './world.js';

/** A folder holding `burrow`, a link to the built command: put it first on PATH. */
export async function burrowOnPath(t: ExecutionContext): Promise<string> {
  const bin = join(await tempDir(t), 'bin');
  await mkdir(bin);
  await symlink(CLI_PATH, join(bin, 'burrow'));
  return bin;
}

/** The command lines of a shell text: continuation lines joined; blank and comment-only lines dropped. */
export function shellLines(text: string): string[] {
  return text.replace(/\\\n\s*/g, '').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

/** The lines of every ```sh block between two markers of a Markdown text. */
export function markedShellLines(markdown: string, start: string, end: string): string[] {
  const from = markdown.indexOf(start);
  const to = markdown.indexOf(end, from);
  if (from < 0 || to < 0) throw new Error(`markers ${start} ... ${end} not found`);
  const blocks = [...markdown.slice(from, to).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks.flatMap(shellLines);
}

const LONG_RUNNING: { re: RegExp; ready: RegExp }[] = [
  { re: /^(npx )?burrow relay\b/, ready: /^relay SHA256:\S+ clients on [\d.]+:(\d+), skeletons on [\d.]+:(\d+)$/ },
  { re: /^(npx )?burrow skeleton\b/, ready: /^skeleton serving / },
  { re: /^(npx )?burrow client connect\b/, ready: /^forwarding [\d.]+:(\d+) -> / },
];

export interface Walk {
  /** Runs one line as written (after substituting learned ports); resolves when it exited 0 or is ready. */
  run(line: string): Promise<CliResult | undefined>;
  /** Written address -> address used, e.g. 127.0.0.1:8000 -> 127.0.0.1:41234. */
  readonly addresses: Map<string, string>;
}

export function walk(t: ExecutionContext, opts: { cwd: string; bin: string }): Walk {
  const addresses = new Map<string, string>();
  const env = { PATH: `${opts.bin}:${process.env.PATH ?? ''}` };
  const substitute = (line: string): string => {
    let out = line;
    for (const [from, to] of addresses) out = out.split(from).join(to);
    return out;
  };
  const run = async (written: string): Promise<CliResult | undefined> => {
    const line = substitute(written);
    const long = LONG_RUNNING.find((l) => l.re.test(line));
    if (!long) {
      const result = await runCli([], env, { cwd: opts.cwd, command: ['bash', '-c', line] });
      if (result.code !== 0) throw new Error(`${line}\nexited ${result.code}\n${result.stdout}\n${result.stderr}`);
      return result;
    }
    if (/burrow relay\b/.test(line)) {
      const host = /--host (\S+)/.exec(line)?.[1] ?? '0.0.0.0';
      const ready = await spawnCli(t, [], { cwd: opts.cwd, env, command: ['bash', '-c', `exec ${line} --client-port 0 --skeleton-port 0`] }).waitForLine(long.ready);
      const written = [/--client-port (\d+)/.exec(line)?.[1] ?? '7000', /--skeleton-port (\d+)/.exec(line)?.[1] ?? '7001'];
      const local = host === '0.0.0.0' ? '127.0.0.1' : host;
      addresses.set(`${local}:${written[0]}`, `${local}:${ready[1]}`);
      addresses.set(`${local}:${written[1]}`, `${local}:${ready[2]}`);
    } else if (/burrow client connect\b/.test(line)) {
      const listen = /--listen (\S+)/.exec(line)?.[1] ?? '127.0.0.1:8080';
      const ready = await spawnCli(t, [], { cwd: opts.cwd, env, command: ['bash', '-c', `exec ${line} --listen 127.0.0.1:0`] }).waitForLine(long.ready);
      addresses.set(listen, `127.0.0.1:${ready[1]}`);
    } else {
      await spawnCli(t, [], { cwd: opts.cwd, env, command: ['bash', '-c', `exec ${line}`] }).waitForLine(long.ready);
    }
    return undefined;
  };
  return { run, addresses };
}
