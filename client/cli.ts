/** `burrow client list|connect|stdio`: argv, environment and config file in. */
import type { Command } from 'commander';
import { cliContext, type CliContext } from '../shared/cli/cli-context.js';
import { withExamples } from '../shared/cli/help-examples.js';
import { COMMAND_SUMMARIES } from '../shared/cli/command-summaries.js';
import { logLevelOption, loggerFor, untilSignal } from '../shared/cli/log-options.js';
import { explainListen } from '../shared/cli/listen-hint.js';
import { explainPeerFailure } from '../shared/cli/peer-hints.js';
import { knownRelaysDefault, passwordNote, peerContext, peerOptions, peerPassword, relayTargetsOf, required } from '../shared/cli/peer-options.js';
import { readSecretFile } from '../shared/cli/secret-file.js';
import { forTerminal, jsonForTerminal } from '../shared/display-text.js';
import { addOptions, configOrPrint, CONFIG_OPTION } from '../shared/config/command-options.js';
import type { Config } from '../shared/config/load-config.js';
import { option, type OptionSpec } from '../shared/config/option-spec.js';
import { BurrowError, codeOf, type ErrorCode } from '../shared/errors.js';
import type { Redacted } from '../shared/redacted.js';
import { formatHostPort, parseHostPort } from '../shared/peer/relay-address.js';
// The client's runtime is imported by the action that runs it (await import), not here: `burrow --help`
// and the other roles' commands load this file too, and start faster without it (bench/startup.sh).
import type { BurrowClient, ServerInfo } from './index.js';
import { registerTrustCommand, TRUST_OPTIONS } from './cli-trust.js';

const COMMON = [CONFIG_OPTION, ...peerOptions(7000), logLevelOption('warn')];
const SECRET_FILE = option('--secret-file <file>', 'string', "the server's pre-shared secret, required (copied from the skeleton host; or secret-file in --config)", { path: true });
export const LIST_OPTIONS = [...COMMON, option('--json', 'bool', 'print JSON for scripts')];
export const CONNECT_OPTIONS = [
  ...COMMON, SECRET_FILE,
  option('--listen <host:port>', 'hostport', 'local address to forward from', { default: '127.0.0.1:8080' }),
  option('--quiet', 'bool', 'no live status line on a terminal', { default: false }),
  option('--udp', 'bool', 'the server is a udp server: listen on UDP without waiting for the listing to say so (a forwarder started before the relay or the skeleton)', { default: false }),
  option('--udp-idle <seconds>', 'int', 'a udp server: a flow (one local source address and port) ends after this long without a datagram either way', { default: 120, min: 1, max: 86_400 }),
  option('--max-udp-flows <n>', 'int', 'a udp server: flows at once; datagrams from one more source are dropped, with a log line', { default: 1024, min: 1, max: 1_000_000 }),
  option('--separate-streams', 'bool', 'one relay stream and handshake per local connection (one relay audit line each) instead of channels of one shared tunnel', { default: false }),
  option('--drain <seconds>', 'int', 'on SIGTERM, how long running connections may take to finish (the port stops listening at once; idle connections are cut after a second)', { default: 30, min: 0, max: 3600 }),
];
export const STDIO_OPTIONS = [...COMMON, SECRET_FILE];

/** One client.toml serves every client subcommand: a key one of them uses is no error in another. */
export const CLIENT_FILE_KEYS = [...new Set([LIST_OPTIONS, CONNECT_OPTIONS, STDIO_OPTIONS, TRUST_OPTIONS].flat().map((s) => s.toml))];

/** The merged config of one client subcommand, or undefined once --print-config has printed it. */
function clientConfig(cmd: Command, specs: readonly OptionSpec[], ctx: CliContext): Promise<Config | undefined> {
  return configOrPrint(cmd, specs, ctx, { siblingKeys: CLIENT_FILE_KEYS, defaults: knownRelaysDefault(ctx.env), notes: (c) => [passwordNote(c, ctx.env)] });
}

async function login(
  config: Config, ctx: CliContext, logName: string, onFatal?: (err: BurrowError) => void,
  extra: { startWithoutRelay?: boolean; onStartWithoutRelay?: (err: BurrowError) => void } = {},
): Promise<BurrowClient> {
  const relay = await relayTargetsOf(config, ctx.env);
  const user = required(config, 'user', '--user');
  const log = loggerFor(logName, config.logLevel);
  const hints = peerContext(config, ctx.env, 'client', relay);
  const password = await peerPassword(config, ctx.env, user);
  try {
    const { connect } = await import('./index.js');
    return await connect({ relay, user, password, log, ...extra, ...(onFatal ? { keepAlive: true, onFatal: (err: BurrowError) => onFatal(explainPeerFailure(err, hints)) } : {}) });
  } catch (err) {
    throw explainPeerFailure(err, hints);
  }
}

/**
 * A forwarder outlives its server: one that is not listed (not advertised yet, offline, or a typo'd id)
 * is a warning naming the id and what this account can see, and the forwarder listens anyway. A listed
 * server is probed, which proves the secret to the skeleton without it opening its target: a wrong
 * secret still exits 4 at once rather than on the first stream.
 */
async function checkServer(client: BurrowClient, id: string, secret: Redacted<Buffer>, warn: (line: string, code: ErrorCode) => void): Promise<{ unavailable?: ErrorCode; udp?: boolean }> {
  const servers: ServerInfo[] = await client.list();
  const listed = servers.find((s) => s.id === id);
  if (!listed) {
    const visible = servers.length === 0 ? 'none' : servers.map((s) => s.id).join(', ');
    warn(`server ${id} is not listed (yet); this account can see: ${visible}. Listening anyway (on TCP unless --udp): connections are refused until ${id} is advertised`, 'ERR_UNKNOWN_SERVER');
    return { unavailable: 'ERR_UNKNOWN_SERVER' };
  }
  // The listing says how the server talks: a udp server gets a UDP forwarder.
  const udp = listed.protocol === 'udp';
  try {
    await client.probe(id, { secret });
  } catch (err) {
    const code = codeOf(err);
    // Gone between the listing and the probe: the same as not listed.
    if (code !== 'ERR_UNKNOWN_SERVER' && code !== 'ERR_SERVER_UNREACHABLE') throw err;
    warn(`server ${id} did not answer (${code}); listening anyway: connections are refused until it is back`, code);
    return { unavailable: code, udp };
  }
  return { udp };
}

export function registerClientCommands(program: Command, overrides: Partial<CliContext> = {}): Command {
  const ctx = cliContext(overrides);
  const client = withExamples(
    program.command('client').description(COMMAND_SUMMARIES.client.summary),
    'burrow client trust relay.example.net:7000',
    'burrow client list --relay relay.example.net:7000 --user alice',
    'burrow client connect home-http --config ~/.config/burrow/client.toml',
  );

  const list = withExamples(
    client.command('list').description('list the servers this account may open'),
    'burrow client list --relay relay.example.net:7000 --fingerprint SHA256:... --user alice --password-file alice.pass',
    'burrow client list --config ~/.config/burrow/client.toml --json',
  );
  addOptions(list, LIST_OPTIONS);
  list.action(async () => {
    const config = await clientConfig(list, LIST_OPTIONS, ctx);
    if (!config) return;
    const c = await login(config, ctx, 'burrow-client');
    try {
      const servers = await c.list();
      if (config.json === true) ctx.stdout(jsonForTerminal(servers));
      else if (servers.length === 0) ctx.stderr('no servers visible to this account');
      else for (const s of servers) ctx.stdout([s.id, s.protocol, s.description].map(forTerminal).join('\t'));
    } finally {
      c.close();
    }
  });

  const conn = client.command('connect').argument('<id>', 'server id').description('forward a local port to a server');
  withExamples(
    conn,
    'burrow client connect home-http --listen 127.0.0.1:8080 --secret-file home-http.secret \\\n' +
      '    --relay relay.example.net:7000 --fingerprint SHA256:... --user alice --password-file alice.pass',
    'burrow client connect home-http --config ~/.config/burrow/client.toml --quiet',
    'burrow client connect home-dns --listen 127.0.0.1:5353 --secret-file dns.secret ...   # a udp server: listens on UDP',
  );
  addOptions(conn, CONNECT_OPTIONS);
  conn.action(async (id: string) => {
    const config = await clientConfig(conn, CONNECT_OPTIONS, ctx);
    if (!config) return;
    const secret = await readSecretFile(required(config, 'secretFile', '--secret-file'), 'client');
    const { host, port } = parseHostPort(config.listen as string, '--listen');
    let refused: (err: BurrowError) => void = () => undefined;
    const fatal = new Promise<never>((_, reject) => { refused = reject; });
    // A forwarder outlives its relay too: one not there yet is logged in to in the background.
    let offline: BurrowError | undefined;
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const c = await login(config, ctx, 'burrow-client', (err) => refused(err), { startWithoutRelay: true, onStartWithoutRelay: (err) => { offline = err; } })
      .catch((err: unknown) => {
        clearInterval(keepAlive);
        throw err;
      });
    const log = loggerFor('burrow-client', config.logLevel);
    const warn = (line: string, code: ErrorCode): void => {
      ctx.stderr(`burrow: warning: ${line}`);
      log.warn({ server: id, code }, 'server not available at start; forwarding anyway');
    };
    if (offline) warn(`could not log in to the relay yet (${offline.code}); listening anyway and logging in in the background: connections wait up to 10 s for it`, offline.code);
    const checked = offline ? {} : await checkServer(c, id, secret, warn);
    const { unavailable } = checked;
    const udp = config.udp === true || checked.udp === true;
    const [{ startForwarder }, { startUdpForwarder }, { startStatusLine }] = await Promise.all([import('./io/forwarder.js'), import('./io/udp-forwarder.js'), import('./status-line.js')]);
    const forwarder = await (udp
      ? startUdpForwarder({ client: c, serverId: id, secret, host, port, log, idleMs: (config.udpIdle as number) * 1000, maxFlows: config.maxUdpFlows as number })
      : startForwarder({ client: c, serverId: id, secret, host, port, log, separateStreams: config.separateStreams === true, ...(unavailable ? { unavailable } : {}) })
    ).catch((err: unknown) => {
      c.close();
      throw explainListen(err, { forwarder: { port: '--listen', host: '--listen' } });
    });
    const stopped = Promise.race([untilSignal(), fatal]);
    ctx.stdout(`forwarding ${udp ? 'udp ' : ''}${formatHostPort(forwarder.address.address, forwarder.address.port)} -> ${id} (end-to-end encrypted through the relay)`);
    const status = startStatusLine(forwarder, { out: process.stdout, quiet: config.quiet === true });
    try {
      await stopped;
    } finally {
      clearInterval(keepAlive);
      status.stop();
      // A second Ctrl-C or SIGTERM while draining: what runs is cut now.
      void untilSignal().then(() => forwarder.close({ drainMs: 0 }));
      await forwarder.close({ drainMs: (config.drain as number) * 1000 });
      c.close();
    }
  });

  const stdio = client.command('stdio').argument('<id>', 'server id').description('one stream on stdin/stdout (ssh ProxyCommand)');
  withExamples(
    stdio,
    'burrow client stdio home-ssh --config ~/.config/burrow/client.toml --secret-file ~/.config/burrow/home-ssh.secret',
    '# in ~/.ssh/config:',
    '  ProxyCommand burrow client stdio home-ssh --secret-file ~/.burrow/home-ssh.secret --relay relay.example.net:7000 --user alice --password-file ~/.burrow/alice.pass',
  );
  addOptions(stdio, STDIO_OPTIONS);
  stdio.action(async (id: string) => {
    const config = await clientConfig(stdio, STDIO_OPTIONS, ctx);
    if (!config) return;
    const secret = await readSecretFile(required(config, 'secretFile', '--secret-file'), 'client');
    const c = await login(config, ctx, 'burrow-client');
    try {
      const stream = await c.open(id, { secret });
      const { pumpStdio } = await import('./io/stdio-stream.js');
      await pumpStdio(stream, process.stdin, process.stdout);
    } finally {
      c.close();
    }
  });
  registerTrustCommand(client, ctx, CLIENT_FILE_KEYS);
  return client;
}
