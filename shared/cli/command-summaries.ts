/**
 * The one-line summary of each top-level command, in the order `burrow --help` lists them. The commands'
 * own modules use them, and so does the overview `burrow --help` prints without loading those modules
 * (bin/program.ts): every `burrow` process pays for what its command loads, and the overview needs
 * nothing but these lines. `options`: whether the command itself takes options (`relay [options]`).
 */
export const COMMAND_SUMMARIES = {
  demo: { summary: 'relay, skeleton, a demo web server and a client forwarder on loopback', options: true },
  keys: { summary: "manage the relay's Ed25519 identity", options: false },
  secret: { summary: 'server secrets shared by a skeleton and its clients', options: false },
  users: { summary: 'manage the relay users file (argon2id hashes, roles, id patterns)', options: false },
  relay: { summary: 'run the relay on a public host: clients and skeletons connect to it', options: true },
  skeleton: { summary: 'run next to your servers: dial out to the relay and serve streams to them', options: true },
  client: { summary: 'reach servers through the relay', options: false },
} as const;

export type TopCommand = keyof typeof COMMAND_SUMMARIES;
