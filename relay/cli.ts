/** `burrow relay`: argv, environment and config file in; a running relay until SIGTERM or SIGINT. */
import type { Command } from 'commander';
import { cliContext, type CliContext } from '../shared/cli/cli-context.js';
import { LOG_LEVEL_OPTION, loggerFor, untilSignal } from '../shared/cli/log-options.js';
import { addOptions, CONFIG_OPTION, resolveConfig } from '../shared/config/command-options.js';
import { option } from '../shared/config/option-spec.js';
import { formatHostPort } from '../shared/peer/relay-address.js';
import { startRelay } from './index.js';

export const RELAY_OPTIONS = [
  CONFIG_OPTION,
  option('--host <host>', 'string', 'address to listen on', { default: '0.0.0.0' }),
  option('--client-port <port>', 'port', 'port for clients', { default: 7000 }),
  option('--skeleton-port <port>', 'port', 'port for skeletons', { default: 7001 }),
  option('--keys <dir>', 'string', 'directory with relay.key.jwk and relay.pub.jwk', { default: 'keys' }),
  option('--users <file>', 'string', 'users file written by burrow users', { default: 'users.json' }),
  option('--drain <seconds>', 'int', 'on SIGTERM, how long running streams may take to finish', { default: 30, max: 3600 }),
  LOG_LEVEL_OPTION,
];

export function registerRelayCommand(program: Command, overrides: Partial<CliContext> = {}): Command {
  const ctx = cliContext(overrides);
  const cmd = program
    .command('relay')
    .description('run the relay on a public host: clients and skeletons connect to it')
    .addHelpText('after', '\nExample:\n  burrow relay --keys keys --users users.json --client-port 7000 --skeleton-port 7001');
  addOptions(cmd, RELAY_OPTIONS);
  cmd.action(async () => {
    const config = await resolveConfig(cmd, RELAY_OPTIONS, ctx.env);
    const log = loggerFor('burrow-relay', config.logLevel);
    const relay = await startRelay({
      host: config.host as string,
      clientPort: config.clientPort as number,
      skeletonPort: config.skeletonPort as number,
      keysDir: config.keys as string,
      usersFile: config.users as string,
      drainMs: (config.drain as number) * 1000,
      log,
    });
    // Listen for signals before saying we are ready, so a supervisor's early SIGTERM is a clean stop.
    const stopped = untilSignal();
    const { client, skeleton } = relay.addresses;
    ctx.stdout(`relay ${relay.fingerprint} clients on ${formatHostPort(client.address, client.port)}, skeletons on ${formatHostPort(skeleton.address, skeleton.port)}`);
    const signal = await stopped;
    log.info({ signal }, 'shutting down');
    await relay.close();
  });
  return cmd;
}
