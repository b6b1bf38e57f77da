/**
 * The `burrow` command with only `client` loaded whole: the second bundle (bin/build-bundle.ts), which
 * the entry runs for `burrow client ...` and for a command line that names no command (`--help`,
 * `--version`), so that an ssh ProxyCommand's `client stdio` reads and compiles half the code.
 */
import { runCli } from './run-cli.js';

void runCli({ client: async () => (await import('../client/cli.js')).registerClientCommands });
