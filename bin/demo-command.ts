/** `burrow demo`: relay, skeleton, a demo web server and a client forwarder on loopback (bin/demo.ts). */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { cliContext } from '../shared/cli/cli-context.js';
import { COMMAND_SUMMARIES } from '../shared/cli/command-summaries.js';
import { withExamples } from '../shared/cli/help-examples.js';

function demoPort(value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port <= 65535)) throw new InvalidArgumentError('expected a port from 0 to 65535');
  return port;
}

export function registerDemoCommand(program: Command): Command {
  const ctx = cliContext();
  return withExamples(
    program.command('demo').description(COMMAND_SUMMARIES.demo.summary)
      .addOption(new Option('--port <port>', 'local port of the demo forwarder (default: 8080, or any free port if 8080 is taken)').argParser(demoPort))
      .action(async (opts: { port?: number }) => (await import('./demo.js')).runDemo(ctx, opts)),
    'burrow demo      # then: curl http://127.0.0.1:8080/',
    'burrow demo --port 9080',
  );
}
