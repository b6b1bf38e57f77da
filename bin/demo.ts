/**
 * `burrow demo`: a relay, a skeleton fronting a small HTTP server, and a client forwarder, all on
 * loopback with throwaway keys and users in a temporary folder. Prints the URL to open and the commands
 * that run the same setup as separate processes while it runs (as printed: real addresses and paths).
 * Ctrl-C stops everything and removes the folder.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '../client/index.js';
import { startForwarder, type Forwarder } from '../client/io/forwarder.js';
import { startRelay } from '../relay/index.js';
import { hashPassword } from '../relay/users/password-hash.js';
import { saveUsers, UsersDb } from '../relay/users/users-file.js';
import type { CliContext } from '../shared/cli/cli-context.js';
import { untilSignal } from '../shared/cli/log-options.js';
import { generateRelayKeys } from '../shared/crypto/relay-key-files.js';
import { createLogger } from '../shared/log.js';
import { Redacted } from '../shared/redacted.js';
import { startSkeleton } from '../skeleton/index.js';
import { startDemoHttpServer } from './demo-http-server.js';

async function forwardOn(start: (port: number) => Promise<Forwarder>, port: number | undefined): Promise<Forwarder> {
  if (port !== undefined) return start(port);
  try {
    return await start(8080);
  } catch {
    // 8080 is taken on this machine: any free port will do.
    return start(0);
  }
}

/** `port`: the forwarder's local port; by default 8080, or any free one if 8080 is taken. */
export async function runDemo(ctx: CliContext, opts: { port?: number } = {}): Promise<void> {
  const log = createLogger('burrow-demo', 'warn');
  const dir = await mkdtemp(join(tmpdir(), 'burrow-demo-'));
  const keysDir = join(dir, 'keys');
  const usersFile = join(dir, 'users.json');
  const secretFile = join(dir, 'demo-http.secret');
  const password = new Redacted(randomBytes(18).toString('base64url'));
  const passwordFile = join(dir, 'demo.pass');
  const identity = await generateRelayKeys(keysDir);
  const hash = await hashPassword(password);
  await saveUsers(usersFile, new UsersDb([
    ['demo-client', { hash, roles: ['client'], serve: [], access: ['demo-*'], disabled: false }],
    ['demo-home', { hash, roles: ['skeleton'], serve: ['demo-*'], access: [], disabled: false }],
  ]));
  const secret = new Redacted(randomBytes(32));
  await writeFile(secretFile, secret.reveal().toString('base64url') + '\n', { mode: 0o600 });
  await writeFile(passwordFile, password.reveal() + '\n', { mode: 0o600 });

  const http = await startDemoHttpServer();
  const relay = await startRelay({ host: '127.0.0.1', clientPort: 0, skeletonPort: 0, admin: { host: '127.0.0.1', port: 0 }, identity, usersFile, log, drainMs: 2000 });
  const fp = relay.fingerprint;
  const clientRelay = { host: '127.0.0.1', port: relay.addresses.client.port, fingerprint: fp };
  const skeletonRelay = { host: '127.0.0.1', port: relay.addresses.skeleton.port, fingerprint: fp };
  const skeleton = await startSkeleton({
    relay: skeletonRelay, user: 'demo-home', password, log,
    servers: [{ id: 'demo-http', host: '127.0.0.1', port: http.port, secret, description: 'the demo web page', protocol: 'http' }],
  });
  const client = await connect({ relay: clientRelay, user: 'demo-client', password, log });
  const forwarder = await forwardOn((port) => startForwarder({ client, serverId: 'demo-http', secret, host: '127.0.0.1', port, log }), opts.port);
  const stopped = untilSignal();
  const url = `http://127.0.0.1:${forwarder.address.port}/`;
  // Started by `npm start` this runs in the burrow folder, where `npx burrow` works; else `burrow` is on PATH.
  const burrow = ctx.env.npm_lifecycle_event === 'start' ? 'npx burrow' : 'burrow';
  const clientArgs = `--relay 127.0.0.1:7000 --fingerprint ${fp} --user demo-client --password-file ${passwordFile}`;
  ctx.stdout(`burrow demo is running (throwaway keys and users in ${dir})

  open ${url}   or   curl ${url}
  the relay's dashboard: ${relay.admin?.url ?? '(admin off)'}   metrics: ${relay.admin?.url ?? ''}metrics

The page travels: curl -> client forwarder -> relay (127.0.0.1:${clientRelay.port}) -> skeleton -> demo HTTP server (127.0.0.1:${http.port}),
encrypted end to end; the relay only sees ciphertext.

The same setup as separate processes, one terminal each, while this demo runs: they use its files and
its web server, which Ctrl-C stops and deletes. On real hosts the relay leaves out --host (it then listens
on every address, 0.0.0.0) and the others use its public name instead of 127.0.0.1.
  ${burrow} relay --host 127.0.0.1 --client-port 7000 --skeleton-port 7001 --keys ${keysDir} --users ${usersFile}
  ${burrow} skeleton --relay 127.0.0.1:7001 --fingerprint ${fp} --user demo-home --password-file ${passwordFile} \\
      --server demo-http=127.0.0.1:${http.port},secret-file=${secretFile},protocol=http
  ${burrow} client list ${clientArgs}
  ${burrow} client connect demo-http --listen 127.0.0.1:8081 --secret-file ${secretFile} \\
      ${clientArgs}
  curl http://127.0.0.1:8081/

Press Ctrl-C to stop.`);
  await stopped;
  ctx.stderr('stopping');
  // A connection whose app just closed (a curl that finished) ends within milliseconds: let it, rather
  // than count it as cut; an idle browser connection is cut after a second of silence.
  await forwarder.close({ drainMs: 2000 });
  client.close();
  await skeleton.close();
  await relay.close({ drainMs: 1000 });
  http.server.close();
  await rm(dir, { recursive: true, force: true });
}
