#!/usr/bin/env -S node --initial-old-space-size=64 --max-semi-space-size=2
/**
 * The one `burrow` command: every role and admin task as a subcommand. Exit codes are the contract.
 * The shebang starts node with NODE_FLAGS (bin/node-flags.ts says why); `env -S` splits them off.
 */
import { ALL_COMMANDS } from './all-commands.js';
import { runCli } from './run-cli.js';

void runCli(ALL_COMMANDS);
