/** The `burrow` command tree: every role and admin task as a subcommand (bin/burrow.ts runs it). */
import { Command, InvalidArgumentError, Option } from 'commander';
import { registerClientCommands } from '../client/cli.js';
import { registerKeysCommands } from '../relay/cli-keys.js';
import { registerRelayCommand } from '../relay/cli.js';
import { registerUsersCommands } from '../relay/cli-users.js';
import { cliContext } from '../shared/cli/cli-context.js';
import { registerSecretCommand } from '../shared/cli/cli-secret.js';
import { withExamples } from '../shared/cli/help-examples.js';
import { registerSkeletonCommand } from '../skeleton/cli.js';

function demoPort(value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port <= 65535)) throw new InvalidArgumentError('expected a port from 0 to 65535');
  return port;
}

export function buildProgram(): Command {
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
  registerKeysCommands(program);
  registerSecretCommand(program);
  registerUsersCommands(program);
  registerRelayCommand(program);
  registerSkeletonCommand(program);
  registerClientCommands(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}
