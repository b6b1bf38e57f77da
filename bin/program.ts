/**
 * The `burrow` command tree: every role and admin task as a subcommand (bin/burrow.ts runs it). Only
 * the module of the command that argv names is loaded: a `client stdio` (an ssh ProxyCommand, started
 * for every connection) does not pay for the relay's and the skeleton's code, nor they for each other's.
 * When argv names no command (`burrow --help`, `burrow --version`), none is loaded: the overview lists
 * each by its summary (shared/cli/command-summaries.ts).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { cliContext } from '../shared/cli/cli-context.js';
import { withExamples } from '../shared/cli/help-examples.js';
import { COMMAND_SUMMARIES, type TopCommand } from '../shared/cli/command-summaries.js';

type Register = (program: Command) => unknown;
/** Top-level command -> the module that registers it (in the order `burrow --help` lists them). */
const COMMANDS: Record<TopCommand, () => Promise<Register>> = {
  keys: async () => (await import('../relay/cli-keys.js')).registerKeysCommands,
  secret: async () => (await import('../shared/cli/cli-secret.js')).registerSecretCommand,
  users: async () => (await import('../relay/cli-users.js')).registerUsersCommands,
  relay: async () => (await import('../relay/cli.js')).registerRelayCommand,
  skeleton: async () => (await import('../skeleton/cli.js')).registerSkeletonCommand,
  client: async () => (await import('../client/cli.js')).registerClientCommands,
};

/** The top-level command argv names (its first word that is not an option), if any. */
function commandOf(argv: readonly string[]): string | undefined {
  return argv.slice(2).find((arg) => !arg.startsWith('-'));
}

function demoPort(value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port <= 65535)) throw new InvalidArgumentError('expected a port from 0 to 65535');
  return port;
}

/**
 * The program for `argv`: with the one command it names; with a summary of each (none loaded) when it
 * names none; with every command, whole, when there is no argv (the help test walks that tree) or argv
 * names one that is not a top-level command (`burrow help relay`).
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const ctx = cliContext();
  const program = withExamples(
    new Command('burrow')
      .description('reach servers behind NAT through a public relay, encrypted end to end')
      .version('0.1.0')
      .showHelpAfterError('(run with --help for usage)')
      .exitOverride(),
    'burrow demo                                          # everything on loopback, to try it',
    'burrow relay --config /etc/burrow/relay.toml         # on the public host',
    'burrow skeleton --config /etc/burrow/skeleton.toml   # next to your servers',
    'burrow client connect home-http --config ~/.config/burrow/client.toml',
    'burrow <command> --help                              # every command has examples',
  );
  withExamples(
    program.command('demo').description('relay, skeleton, a demo web server and a client forwarder on loopback')
      .addOption(new Option('--port <port>', 'local port of the demo forwarder (default: 8080, or any free port if 8080 is taken)').argParser(demoPort))
      .action(async (opts: { port?: number }) => (await import('./demo.js')).runDemo(ctx, opts)),
    'burrow demo      # then: curl http://127.0.0.1:8080/',
    'burrow demo --port 9080',
  );
  const all = Object.keys(COMMANDS) as TopCommand[];
  const named = argv === undefined ? undefined : commandOf(argv);
  if (argv !== undefined && named === undefined) {
    for (const name of all) addSummary(program, name);
  } else {
    const wanted = named === 'demo' ? [] : named !== undefined && named in COMMANDS ? [named as TopCommand] : all;
    const registers = await Promise.all(wanted.map((name) => COMMANDS[name]()));
    for (const register of registers) register(program);
  }
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/**
 * A command as the overview lists it, without its module: its summary, and `[options]` after its name
 * when it takes options (a hidden `--config`, which each of those has).
 */
function addSummary(program: Command, name: TopCommand): void {
  const { summary, options } = COMMAND_SUMMARIES[name];
  const cmd = program.command(name).description(summary);
  if (options) cmd.addOption(new Option('--config <file>').hideHelp());
}
