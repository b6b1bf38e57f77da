/**
 * "Never lose a tunnel": accounts and servers change while streams run. `burrow users disable|passwd`
 * on the relay's users file (watched, and reloaded on SIGHUP), and edits of the skeleton's TOML config,
 * with real relay, skeleton and forwarder processes.
 */
import { writeFile } from 'node:fs/promises';
import { connect } from '../../client/index.js';
import { readSecretFile } from '../../shared/cli/secret-file.js';
import { Redacted } from '../../shared/redacted.js';
import { join } from 'node:path';
import { errorCode } from '../helpers/cli-process.js';
import { logMsg } from '../helpers/fault-lines.js';
import { EchoTransfer, within } from '../helpers/fault-transfer.js';
import {
  advertised, clientList, FAST_HEARTBEAT, faultWorld, overBothTransports, relayTarget, listedIds, running, serverArg, startForwarder, startRelay, startSkeleton, usersCli, type ServerSpec,
} from '../helpers/fault-world.js';
import { echoServer, PASSWORD } from '../helpers/world.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const USERS = {
  alice: { roles: ['client' as const], access: ['*'] },
  bob: { roles: ['client' as const], access: ['*'] },
  home: { roles: ['skeleton' as const], serve: ['*'] },
};

overBothTransports('users disable: the account\'s sessions end at once; the relay does not cut a stream already spliced, but the forwarder exits 3 and takes its own connections with it; new opens fail', async (t, transport) => {
  const w = await faultWorld(t, USERS, transport);
  const echo = await echoServer(t);
  const relay = await startRelay(w, { args: FAST_HEARTBEAT });
  await startSkeleton(w, relay.skeletonPort, [{ id: 'echo', port: echo.port }]);
  const fwd = await startForwarder(w, relay.clientPort, 'echo');
  const viaForwarder = new EchoTransfer({ port: fwd.port, total: 4 * MiB, seed: 'through the forwarder', holdAt: 512 * KiB });
  await within(viaForwarder.reached(), 10_000, 'the forwarder stream opened before the disable');
  // The same account in a library client (no keep-alive): its open stream is a Duplex in this process.
  const lib = await connect({ relay: relayTarget(w, relay.clientPort), user: 'alice', password: new Redacted(PASSWORD) });
  t.teardown(() => lib.close());
  const secret = await readSecretFile(await w.secretFile('echo'));
  const viaLibrary = new EchoTransfer({ port: await lib.open('echo', { secret }), total: 4 * MiB, seed: 'through the library', holdAt: 512 * KiB });
  await within(viaLibrary.reached(), 10_000, 'the library stream opened before the disable');

  const relayMark = relay.log.mark();
  const disable = await usersCli(w, ['disable', 'alice']);
  t.is(disable.code, 0, disable.stderr);
  const ended = await relay.log.waitForCount(logMsg('account removed or disabled, ending its session', { user: 'alice' }), 2, { after: relayMark });
  t.is(ended.length, 2, 'both of alice\'s sessions end');

  // The relay leaves spliced streams alone: the library's stream runs to its end, intact.
  viaLibrary.release();
  const kept = await within(viaLibrary.done, 15_000, 'the library stream spliced before the disable');
  t.true(kept.intact, JSON.stringify(kept));
  // A new open by the disabled account is refused.
  const refused = await t.throwsAsync(within(lib.open('echo', { secret }), 15_000, 'an open after the disable'));
  t.is((refused as { code?: string }).code, 'ERR_AUTH_FAILED');

  // The forwarder's background login is refused: it exits 3, which ends its local connections too.
  t.deepEqual(await within(fwd.exited, 15_000, 'the forwarder exit'), { code: 3, signal: null });
  const cut = await within(viaForwarder.done, 5_000, 'the forwarder stream after the forwarder exited');
  t.true(cut.cutShort && cut.echoed < 4 * MiB, JSON.stringify(cut));
  t.is(echo.connections(), 2, 'only the two streams from before the disable reached the home server');
});

overBothTransports('users passwd takes effect for the next login: running sessions stay, the old password is refused, the new one works; SIGHUP reloads too', async (t, transport) => {
  const w = await faultWorld(t, USERS, transport);
  const echo = await echoServer(t);
  const relay = await startRelay(w, { args: FAST_HEARTBEAT });
  await startSkeleton(w, relay.skeletonPort, [{ id: 'echo', port: echo.port }]);
  const fwd = await startForwarder(w, relay.clientPort, 'echo');

  const NEW_PASSWORD = 'a brand new passphrase for alice';
  const [relayMark, fwdMark] = [relay.log.mark(), fwd.log.mark()];
  const passwd = await usersCli(w, ['passwd', 'alice'], { BURROW_PASSWORD: NEW_PASSWORD });
  t.is(passwd.code, 0, passwd.stderr);
  // The relay watches the file: no signal was sent.
  await relay.log.waitFor(logMsg('users file reloaded'), { after: relayMark });

  // The forwarder's session (logged in with the old password) lives on and still opens streams.
  const stream = new EchoTransfer({ port: fwd.port, total: MiB, seed: 'after passwd' });
  t.true((await within(stream.done, 10_000, 'a stream on the session from before passwd')).intact);
  t.deepEqual(fwd.log.matching(logMsg('relay session closed'), { after: fwdMark }), []);

  const old = await clientList(w, relay.clientPort, { password: PASSWORD });
  t.is(old.code, 3, old.stderr);
  t.is(errorCode(old.stderr), 'ERR_AUTH_FAILED');
  const fresh = await clientList(w, relay.clientPort, { password: NEW_PASSWORD });
  t.is(fresh.code, 0, fresh.stderr);
  t.deepEqual((JSON.parse(fresh.stdout) as { id: string }[]).map((s) => s.id), ['echo']);

  const hupMark = relay.log.mark();
  relay.child.kill('SIGHUP');
  await relay.log.waitFor(logMsg('SIGHUP: reloading the users file'), { after: hupMark });
  await relay.log.waitFor(logMsg('users file reloaded'), { after: hupMark });
  t.true(running(relay));
});

overBothTransports('editing the skeleton\'s TOML config adds and removes servers within seconds while a stream to a third server keeps running intact', async (t, transport) => {
  const w = await faultWorld(t, USERS, transport);
  const [a, b, c] = [await echoServer(t), await echoServer(t), await echoServer(t)];
  const specs: Record<string, ServerSpec> = { 'web-a': { id: 'web-a', port: a.port }, 'web-b': { id: 'web-b', port: b.port }, 'web-c': { id: 'web-c', port: c.port } };
  const config = join(w.dir, 'skeleton.toml');
  const writeConfig = async (ids: string[]): Promise<void> => {
    const lines = await Promise.all(ids.map((id) => serverArg(w, specs[id]!)));
    await writeFile(config, `# servers this skeleton fronts\nserver = [\n${lines.map((l) => `  ${JSON.stringify(l)},`).join('\n')}\n]\n`);
  };
  await writeConfig(['web-a', 'web-c']);
  const relay = await startRelay(w, { args: FAST_HEARTBEAT });
  const skeleton = await startSkeleton(w, relay.skeletonPort, [], { args: ['--config', config] });
  t.deepEqual(await listedIds(w, relay.clientPort), ['web-a', 'web-c']);

  const fwd = await startForwarder(w, relay.clientPort, 'web-c');
  const total = 4 * MiB;
  const stream = new EchoTransfer({ port: fwd.port, total, seed: 'through both reloads', holdAt: 256 * KiB });
  await within(stream.reached(), 10_000, 'the stream to web-c');

  // Add web-b: advertised, listed, and it serves.
  let mark = skeleton.log.mark();
  await writeConfig(['web-a', 'web-b', 'web-c']);
  await skeleton.log.waitFor(logMsg('server list reloaded', { why: 'config file changed', servers: ['web-a', 'web-b', 'web-c'] }), { after: mark, timeoutMs: 5_000 });
  await advertised(skeleton, ['web-a', 'web-b', 'web-c'], mark, 5_000);
  t.deepEqual(await listedIds(w, relay.clientPort), ['web-a', 'web-b', 'web-c']);
  const fwdB = await startForwarder(w, relay.clientPort, 'web-b');
  t.true((await within(new EchoTransfer({ port: fwdB.port, total: 64 * KiB, seed: 'to web-b' }).done, 10_000, 'a stream to web-b')).intact);
  // The stream to web-c still carries data after the reload.
  stream.allow(MiB);
  await within(stream.echoedAtLeast(MiB), 10_000, 'the stream to web-c after adding web-b');

  // Remove web-a: withdrawn at the relay, gone from listings.
  mark = skeleton.log.mark();
  const relayMark = relay.log.mark();
  await writeConfig(['web-b', 'web-c']);
  await advertised(skeleton, ['web-b', 'web-c'], mark, 5_000);
  await relay.log.waitFor(logMsg('servers withdrawn', { servers: ['web-a'] }), { after: relayMark });
  t.deepEqual(await listedIds(w, relay.clientPort), ['web-b', 'web-c']);

  stream.release();
  const result = await within(stream.done, 15_000, 'the stream to web-c');
  t.true(result.intact, JSON.stringify(result));
  t.is(result.echoed, total);
  t.is(c.connections(), 1, 'one connection to web-c, never re-opened');
  t.is(a.connections(), 0);
  t.true(running(skeleton));
});

// Regression (was a bug): client/io/client-session.ts: a keep-alive session (client connect) re-logs in with backoff
// after any close and after every failed attempt, ERR_AUTH_FAILED included, forever. Each failure earns the
// source address a penalty (relay/core/relay-login.ts:40), and three of them (15 s, source-guard.ts
// penaltyMinMs) get the whole address refused at admission (relay/core/relay-core.ts:82-91) for every
// account, logins and data connections alike; the penalty grows with each retry. So one disabled account's
// forwarder left running locks every other user (and skeleton) behind the same address out. The skeleton's
// reconnect loop (skeleton/core/skeleton-core.ts:85-90) does the same with a disabled skeleton account.
// fix: treat ERR_AUTH_FAILED (and ERR_RELAY_KEY_MISMATCH) as fatal for the background re-login: stop
// retrying and log an error (or let `client connect` exit 3); on-demand opens can still try once each.
overBothTransports('a disabled account\'s forwarder exits 3 instead of locking out other accounts at the same address', async (t, transport) => {
  const w = await faultWorld(t, USERS, transport);
  const echo = await echoServer(t);
  const relay = await startRelay(w, { args: FAST_HEARTBEAT });
  await startSkeleton(w, relay.skeletonPort, [{ id: 'echo', port: echo.port }]);
  const fwd = await startForwarder(w, relay.clientPort, 'echo');
  const [relayMark, fwdMark] = [relay.log.mark(), fwd.log.mark()];
  t.is((await usersCli(w, ['disable', 'alice'])).code, 0);
  await relay.log.waitFor(logMsg('account removed or disabled, ending its session', { user: 'alice' }), { after: relayMark });
  await fwd.log.waitFor(logMsg('relay session closed'), { after: fwdMark });
  // Bob, at the same address, lists 12 times in a row (each process awaited; 4 s or more) while alice's
  // forwarder runs: today it fails to log in three times within 3.5 s and the address is refused.
  const codes: (number | null)[] = [];
  for (let i = 0; i < 12; i++) {
    const r = await clientList(w, relay.clientPort, { user: 'bob' });
    codes.push(r.code);
    if (r.code !== 0) t.log(`bob's list #${i + 1}: ${errorCode(r.stderr) ?? r.stderr}`);
  }
  t.deepEqual(codes, Array(12).fill(0));
  // The forwarder does not keep knocking with a refused account: it says so and exits 3.
  t.deepEqual(await fwd.exited, { code: 3, signal: null });
  t.regex(fwd.stderr(), /ERR_AUTH_FAILED/);
});
