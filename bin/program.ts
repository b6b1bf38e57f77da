/**
 * The `burrow` command tree (bin/run-cli.ts runs it), built from a table of top-level commands, each
 * with the module that registers it. Only the module of the command that argv names is loaded: a
 * `client stdio` (an ssh ProxyCommand, started for every connection) does not pay for the relay's and
 * the skeleton's code, nor they for each other's. When argv names no command (`burrow --help`,
 * `burrow --version`), none is loaded: the overview lists each by its summary
 * (shared/cli/command-summaries.ts). The table decides what a bundle holds: bin/burrow.ts has every
 * command, bin/burrow-client.ts only `client`.
 */
import { Command, Option } from 'commander';
import { withExamples } from '../shared/cli/help-examples.js';
import { COMMAND_SUMMARIES, type TopCommand } from '../shared/cli/command-summaries.js';

export type Register = (program: Command) => unknown;
/** Top-level command -> its module's register function. A command missing is listed by its summary only. */
export type CommandTable = Partial<Record<TopCommand, () => Promise<Register>>>;

/** The top-level command argv names (its first word that is not an option), if any. */
export function commandOf(argv: readonly string[]): string | undefined {
  return argv.slice(2).find((arg) => !arg.startsWith('-'));
}

/**
 * The program for `argv`: with the one command it names; with a summary of each (none loaded) when it
 * names none; with every command of `commands`, whole, when there is no argv (the help test walks that
 * tree) or argv names one that is not a top-level command (`burrow help relay`).
 */
export async function buildProgram(commands: CommandTable, argv?: readonly string[]): Promise<Command> {
  const program = withExamples(
    new Command('burrow')
      .description('reach servers behind NAT through a public relay, encrypted end to end')
      .version('0.1.0')
      .configureOutput({ outputError: (message, write) => write(usageError(message)) })
      .exitOverride(),
    'burrow demo                                          # everything on loopback, to try it',
    'burrow relay --config /etc/burrow/relay.toml         # on the public host',
    'burrow skeleton --config /etc/burrow/skeleton.toml   # next to your servers',
    'burrow client connect home-http --config ~/.config/burrow/client.toml',
    'burrow <command> --help                              # every command has examples',
  );
  const all = Object.keys(COMMAND_SUMMARIES) as TopCommand[];
  const named = argv === undefined ? undefined : commandOf(argv);
  const wanted = argv !== undefined && named === undefined ? [] : named !== undefined && named in COMMAND_SUMMARIES ? [named as TopCommand] : all;
  const registers = new Map(await Promise.all(wanted.flatMap((name) => {
    const load = commands[name];
    return load ? [load().then((register) => [name, register] as const)] : [];
  })));
  // In the overview's order: a command loaded whole, or its summary.
  for (const name of all) {
    const register = registers.get(name);
    if (register) register(program);
    else if (wanted.length === 0 || wanted.includes(name)) addSummary(program, name);
  }
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/**
 * What commander refuses (an unknown option or command, a missing argument) as burrow's own error line:
 * `burrow: unknown option '--bogus': run with --help for usage [ERR_USAGE]` (exit 2, bin/run-cli.ts).
 */
export function usageError(message: string): string {
  const what = message.trim().replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
  return `burrow: ${what}: run with --help for usage [ERR_USAGE]\n`;
}

/**
 * A command as the overview lists it, without its module: its summary, and `[options]` after its name
 * when it takes options (a hidden `--config` or `--port`, which each of those has).
 */
function addSummary(program: Command, name: TopCommand): void {
  const { summary, options } = COMMAND_SUMMARIES[name];
  const cmd = program.command(name).description(summary);
  if (options) cmd.addOption(new Option(name === 'demo' ? '--port <port>' : '--config <file>').hideHelp());
}
