/** `burrow skeleton`: argv, environment and config file in; a skeleton serving until SIGTERM or SIGINT. */
import type { Command } from 'commander';
import { cliContext, type CliContext } from '../shared/cli/cli-context.js';
import { withExamples } from '../shared/cli/help-examples.js';
import { COMMAND_SUMMARIES } from '../shared/cli/command-summaries.js';
import { LOG_LEVEL_OPTION, loggerFor, untilSignal } from '../shared/cli/log-options.js';
import { formatHostPort } from '../shared/peer/relay-address.js';
import { explainPeerFailure, type PeerContext } from '../shared/cli/peer-hints.js';
import { knownRelaysDefault, passwordNote, peerContext, peerOptions, peerPassword, relayTargetsOf, required } from '../shared/cli/peer-options.js';
import { addOptions, configOrPrint, CONFIG_OPTION, resolveConfig } from '../shared/config/command-options.js';
import { option } from '../shared/config/option-spec.js';
import { BurrowError, codeOf } from '../shared/errors.js';
import { publishRefusal } from './publish-refusal.js';
import { parsePublishSpec, PUBLISH_SHAPE, publishSpecProblem } from './publish-spec.js';
import type { Logger } from '../shared/log.js';
import { watchFile } from '../shared/watch-file.js';
import { checkServers, type SkeletonServer } from './io/skeleton-server.js';
import { parseServerSpec, serverSpecInDir, serverSpecProblem } from './server-spec.js';

export const SKELETON_OPTIONS = [
  CONFIG_OPTION,
  ...peerOptions(7001),
  option('--server <spec>', 'list', 'ID=HOST:PORT[,secret-file=F][,description=TEXT][,protocol=P][,proxy-protocol=v1|v2][,transport=udp]; repeat for more servers (secret-file is what burrow clients need; a server only published has none)', { check: serverSpecProblem, path: serverSpecInDir }),
  option('--publish <spec>', 'list', `${PUBLISH_SHAPE}: let anyone reach server ID through the relay's public ports; repeat for more`, { check: publishSpecProblem }),
  option('--udp-idle <seconds>', 'int', 'udp servers: a flow (one client source) ends after this long without a datagram either way', { default: 120, min: 1, max: 86_400 }),
  option('--max-udp-flows <n>', 'int', 'udp servers: flows this skeleton serves at once (one UDP socket each); more are refused, with a log line', { default: 4096, min: 1, max: 1_000_000 }),
  option('--pool <n>', 'int', 'idle data connections kept at the relay', { default: 2, min: 0, max: 64 }),
  option('--drain <seconds>', 'int', 'on SIGTERM, how long running streams may take to finish (the relay routes no new ones here meanwhile; idle ones are cut after a second)', { default: 30, min: 0, max: 3600 }),
  option('--instance <name>', 'string', "this skeleton's name among its account's skeletons: another name serves the same ids beside it, the same name takes them over (default: from the host name)", {
    check: (v) => (/^[A-Za-z0-9_-]{1,64}$/.test(v) ? undefined : 'expected 1-64 of A-Z a-z 0-9 _ -'),
  }),
  LOG_LEVEL_OPTION,
];

async function serversOf(cmd: Command, env: NodeJS.ProcessEnv): Promise<SkeletonServer[]> {
  const config = await resolveConfig(cmd, SKELETON_OPTIONS, env, { defaults: knownRelaysDefault(env) });
  const specs = (config.server as string[] | undefined) ?? [];
  if (specs.length === 0) throw new BurrowError('ERR_USAGE', '--server is required (at least one)');
  const servers = await Promise.all(specs.map(parseServerSpec));
  for (const text of (config.publish as string[] | undefined) ?? []) {
    const pub = parsePublishSpec(text);
    if ('problem' in pub) throw new BurrowError('ERR_USAGE', `--publish ${JSON.stringify(text)}: ${pub.problem}`);
    const server = servers.find((s) => s.id === pub.server);
    if (!server) throw new BurrowError('ERR_USAGE', `--publish ${JSON.stringify(text)}: no --server ${pub.server}=HOST:PORT to publish`);
    if ((server.publications ?? []).some((p) => p.url === pub.url)) throw new BurrowError('ERR_USAGE', `--publish: ${pub.url} is given twice`);
    if (pub.url.startsWith('udp://') !== (server.transport === 'udp')) {
      throw new BurrowError('ERR_USAGE', `--publish ${JSON.stringify(text)}: udp://:PORT publishes a udp server (--server ...,transport=udp), and a udp server is published on udp://:PORT only`);
    }
    (server.publications ??= []).push(pub);
  }
  const bare = servers.find((s) => !s.secret && !s.publications);
  if (bare) throw new BurrowError('ERR_USAGE', `--server ${bare.id}: secret-file=F is required unless the server is published (--publish ${bare.id}=URL): burrow clients must prove its secret (burrow secret generate --out F)`);
  // What the start checks again (a udp server published on udp:// only, ...): a reload is checked the same way.
  checkServers(servers);
  return servers;
}

/**
 * Hot reload of the server list: on SIGHUP, and when the --config file changes, the servers are read
 * again and re-advertised; running streams are not touched. A bad new list is logged and ignored.
 */
function watchServers(cmd: Command, env: NodeJS.ProcessEnv, log: Logger, apply: (servers: SkeletonServer[]) => void): () => void {
  const reload = (why: string): void => {
    serversOf(cmd, env).then(
      (servers) => {
        log.info({ why, servers: servers.map((s) => s.id) }, 'server list reloaded');
        apply(servers);
      },
      (err: unknown) => log.error({ why, code: codeOf(err), detail: (err as Error).message }, 'server list not reloaded'),
    );
  };
  const onHup = (): void => reload('SIGHUP');
  process.on('SIGHUP', onHup);
  const file = (cmd.getOptionValue('config') as string | undefined) ?? env.BURROW_CONFIG;
  const watcher = file ? watchFile(file, () => reload('config file changed')) : undefined;
  return () => {
    process.off('SIGHUP', onHup);
    watcher?.close();
  };
}

/**
 * Says on stderr, in words, why the relay cannot be reached and that the skeleton keeps trying (the
 * JSON log has every attempt): once per distinct reason, and again after the relay was lost.
 */
function retryReporter(ctx: CliContext, hints: PeerContext): { onRetry: (err: BurrowError) => void; lost: (code: string) => void } {
  let last: string | undefined;
  return {
    onRetry: (err) => {
      const why = explainPeerFailure(err, hints).message;
      const line = `burrow skeleton: ${why}${/[.?!]$/.test(why) ? '' : '.'} Retrying until the relay answers (every 0.5 to 4 s while it cannot be reached, up to 30 s while it refuses).`;
      if (line !== last) ctx.stderr(line);
      last = line;
    },
    lost: (code) => {
      last = undefined;
      ctx.stderr(`burrow skeleton: lost the relay at ${hints.relay} (${code}); reconnecting`);
    },
  };
}

export function registerSkeletonCommand(program: Command, overrides: Partial<CliContext> = {}): Command {
  const ctx = cliContext(overrides);
  const cmd = withExamples(
    program.command('skeleton').description(COMMAND_SUMMARIES.skeleton.summary),
    'burrow skeleton --relay relay.example.net:7001 --fingerprint SHA256:... --user home \\\n' +
      '    --password-file home.pass --server home-http=127.0.0.1:80,secret-file=home-http.secret,protocol=http',
    'burrow skeleton --config /etc/burrow/skeleton.toml         # see docs/examples/skeleton.toml',
    'burrow client trust relay.example.net:7001                  # pin the relay once, then no --fingerprint',
    'burrow skeleton ... --server home-web=127.0.0.1:8080 --publish home-web=http://www.home.example.net \\\n' +
      '    --server home-mail=127.0.0.1:2525 --publish home-mail=tcp://:25   # anyone reaches them through the relay',
    'burrow skeleton ... --server home-dns=127.0.0.1:53,secret-file=dns.secret,transport=udp   # a UDP server (DNS)',
  );
  addOptions(cmd, SKELETON_OPTIONS);
  cmd.action(async () => {
    const config = await configOrPrint(cmd, SKELETON_OPTIONS, ctx, { defaults: knownRelaysDefault(ctx.env), notes: (c) => [passwordNote(c, ctx.env)] });
    if (!config) return;
    const servers = await serversOf(cmd, ctx.env);
    const relay = await relayTargetsOf(config, ctx.env);
    const user = required(config, 'user', '--user');
    const log = loggerFor('burrow-skeleton', config.logLevel);
    // Runs until a signal, or until the relay refuses us for good; a timer keeps the process up while
    // the runtime waits between reconnects (its timers are unref'd), from the first login on.
    const hints = peerContext(config, ctx.env, 'skeleton', relay);
    const retries = retryReporter(ctx, hints);
    const password = await peerPassword(config, ctx.env, user);
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const instance = config.instance as string | undefined;
    const { startSkeleton } = await import('./index.js'); // loaded by the action only: a faster start for every other command
    const skeleton = await startSkeleton({
      relay, user, password, servers, pool: config.pool as number, log, drainMs: (config.drain as number) * 1000, udpIdleMs: (config.udpIdle as number) * 1000, maxUdpFlows: config.maxUdpFlows as number, onRetry: (_target, err) => retries.onRetry(err), ...(instance !== undefined ? { instance } : {}),
    })
      .catch((err: unknown) => {
        clearInterval(keepAlive);
        throw explainPeerFailure(err, hints);
      });
    skeleton.runtime.on('disconnected', retries.lost);
    for (const r of skeleton.advertised.rejected) ctx.stderr(`relay refused ${r.id}: ${r.code}`);
    if (skeleton.advertised.accepted.length === 0) {
      clearInterval(keepAlive);
      await skeleton.close({ drainMs: 0 });
      const refused = skeleton.advertised.rejected.map((r) => `${r.id}: ${r.code}`).join(', ');
      throw new BurrowError('ERR_SERVER_ID_NOT_ALLOWED', `the relay accepted none of the servers (${refused}); check the --serve patterns of account ${user} on the relay (burrow users list)`);
    }
    const fatal = new Promise<never>((_, reject) => skeleton.runtime.once('fatal', (err) => reject(explainPeerFailure(err, hints))));
    const stopped = Promise.race([untilSignal(), fatal]);
    const stopReload = watchServers(cmd, ctx.env, log, (next) => skeleton.runtime.setServers(next));
    ctx.stdout(`skeleton serving ${skeleton.advertised.accepted.join(', ')} through ${relay.map((r) => formatHostPort(r.host, r.port)).join(', ')}`);
    if (skeleton.advertised.published.length > 0) ctx.stdout(`public: ${skeleton.advertised.published.join(', ')}`);
    for (const u of skeleton.advertised.unpublished) ctx.stderr(publishRefusal(u.url, u.code, user));
    skeleton.runtime.on('unpublished', (list) => {
      for (const u of list) ctx.stderr(publishRefusal(u.url, u.code, user, true));
    });
    const reachable = servers.filter((s) => s.secret || (s.publications ?? []).some((p) => skeleton.advertised.published.includes(p.url)));
    if (reachable.length === 0) ctx.stderr('burrow skeleton: warning: no server is reachable: none has a secret-file for burrow clients and no publication is live');
    try {
      await stopped;
    } finally {
      clearInterval(keepAlive);
      stopReload();
      // A second Ctrl-C or SIGTERM while draining: cut what runs now (tunnels still end whole), not a kill.
      void untilSignal().then(() => skeleton.drain.hurry());
      await skeleton.close();
    }
  });
  return cmd;
}
