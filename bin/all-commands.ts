/** Every top-level command and the module that registers it (bin/burrow.ts; bin/program.ts says how they load). */
import type { CommandTable } from './program.js';

export const ALL_COMMANDS: CommandTable = {
  demo: async () => (await import('./demo-command.js')).registerDemoCommand,
  keys: async () => (await import('../relay/cli-keys.js')).registerKeysCommands,
  secret: async () => (await import('../shared/cli/cli-secret.js')).registerSecretCommand,
  users: async () => (await import('../relay/cli-users.js')).registerUsersCommands,
  relay: async () => (await import('../relay/cli.js')).registerRelayCommand,
  skeleton: async () => (await import('../skeleton/cli.js')).registerSkeletonCommand,
  client: async () => (await import('../client/cli.js')).registerClientCommands,
};
