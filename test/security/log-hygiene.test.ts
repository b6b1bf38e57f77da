/**
 * S12: secrets, keys, MACs and payload bytes never appear in logs. A whole session (relay, skeleton,
 * client; login, list, a stream with a known marker, a wrong password, a wrong secret, a bad attach
 * proof, garbage) runs with every role logging at trace level into memory; then every record is
 * searched for every secret we can reach, in every usual encoding.
 */
import test from 'ava';
import bunyan from 'bunyan';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { connect } from '../../client/index.js';
import { encodeFrame } from '../../shared/protocol/codec.js';
import { Redacted } from '../../shared/redacted.js';
import { LogWatch, type LogRecord } from '../helpers/security-log.js';
import { RawPeer } from '../helpers/security-net.js';
import { sendAndCollect } from '../helpers/streams.js';
import { echoServer, newSecret, PASSWORD, server, startTestSkeleton, startWorld } from '../helpers/world.js';

function encodings(bytes: Buffer): string[] {
  return [bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('base64').replace(/=+$/, '')];
}

/** Paths in a record that hold raw bytes: a log line must never carry them. */
function bytePaths(value: unknown, path = '', seen = new Set<unknown>()): string[] {
  if (value instanceof Uint8Array) return [path];
  if (typeof value !== 'object' || value === null || seen.has(value)) return [];
  seen.add(value);
  return Object.entries(value).flatMap(([k, v]) => bytePaths(v, `${path}.${k}`, seen));
}

/** Every key name in a record, at any depth. */
function keysOf(value: unknown, seen = new Set<unknown>()): string[] {
  if (typeof value !== 'object' || value === null || seen.has(value)) return [];
  seen.add(value);
  return Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v, seen)]);
}

test('S12: a full session logged at trace level by every role shows no password, secret, key, MAC or payload', async (t) => {
  const relayLog = new LogWatch('relay');
  const skeletonLog = new LogWatch('skeleton');
  const clientLog = new LogWatch('client');
  const world = await startWorld(t, { log: relayLog.log });
  const echo = await echoServer(t);
  const secret = newSecret();
  await startTestSkeleton(t, world, [server('echo', echo.port, secret)], { log: skeletonLog.log });
  const client = await connect({ relay: world.clientTarget, user: 'alice', password: new Redacted(PASSWORD), log: clientLog.log });
  t.teardown(() => client.close());

  // What the relay holds that must stay out of logs: its keys and both sessions' keys.
  const state = world.relay.runtime.core.state;
  const sessionKeys = [...state.sessions.values()].flatMap((s) => [s.keys.peerToRelay, s.keys.relayToPeer, s.keys.attach]);
  t.is(sessionKeys.length, 6);
  const identityD = world.identity.privateKey.export({ format: 'jwk' }).d!;
  const ephemeralD = state.deps.ephemeral(Date.now()).privateKey.export({ format: 'jwk' }).d!;

  const marker = `BURROW-LOG-MARKER-${randomBytes(8).toString('hex')}`;
  t.deepEqual((await client.list()).map((s) => s.id), ['echo']);
  t.is((await sendAndCollect(await client.open('echo', { secret }), Buffer.from(marker))).toString(), marker);

  const wrongPassword = `wrong-${randomBytes(8).toString('hex')}`;
  const refused = await t.throwsAsync(connect({ relay: world.clientTarget, user: 'alice', password: new Redacted(wrongPassword), log: clientLog.log }));
  t.is((refused as { code?: string }).code, 'ERR_AUTH_FAILED');
  const wrongSecret = newSecret();
  const e2e = await t.throwsAsync(client.open('echo', { secret: wrongSecret }));
  t.is((e2e as { code?: string }).code, 'ERR_E2E_HANDSHAKE_FAILED');

  // A forged attach proof and garbage: the warn paths log too.
  const forgedMac = randomBytes(32);
  const forger = await RawPeer.open(t, world.clientTarget.port, '127.0.0.2');
  await forger.next();
  forger.send(encodeFrame({ t: 'attach', sid: [...state.sessions.keys()][0]!, purpose: 'stream', server: 'echo', mac: forgedMac }));
  await forger.reader.rest();
  const garbage = await RawPeer.open(t, world.skeletonTarget.port, '127.0.0.2');
  await garbage.next();
  garbage.send(Buffer.concat([Buffer.from([0, 0, 0, 40]), randomBytes(40)]));
  await garbage.reader.rest();

  // Both streams have ended at the relay (audit lines) and the skeleton has refused the wrong secret.
  await relayLog.waitFor((r) => r.msg === 'stream closed' && relayLog.count('stream closed') >= 2);
  await skeletonLog.waitFor((r) => r.msg === 'stream refused');
  await relayLog.waitFor((r) => r.msg === 'attach proof rejected');

  const records: LogRecord[] = [...relayLog.records, ...skeletonLog.records, ...clientLog.records];
  // The capture is real: lifecycle, per-message and misbehaviour lines from all three roles.
  for (const msg of ['logged in', 'servers advertised', 'stream closed', 'login failed', 'attach proof rejected']) t.true(relayLog.count(msg) > 0, msg);
  t.true(skeletonLog.records.length > 0 && clientLog.records.length > 0);
  t.true(records.some((r) => r.level <= bunyan.DEBUG), 'debug and trace lines are included');

  const text = records.map((r) => JSON.stringify(r)).join('\n');
  const forbidden: [string, string[]][] = [
    ['password', [PASSWORD, wrongPassword]],
    ['server secret', encodings(secret.reveal())],
    ['wrong server secret', encodings(wrongSecret.reveal())],
    ['payload marker', [marker]],
    ['session keys', sessionKeys.flatMap(encodings)],
    ['relay identity private key', [identityD]],
    ['relay ephemeral private key', [ephemeralD]],
    ['forged attach MAC', encodings(forgedMac)],
  ];
  for (const [what, values] of forbidden) {
    for (const v of values) t.false(text.includes(v), `${what} in logs`);
  }
  for (const r of records) {
    t.deepEqual(bytePaths(r), [], `raw bytes in "${r.msg}"`);
    t.false(keysOf(r).includes('mac'), `a mac field in "${r.msg}"`);
  }
  const audit = relayLog.records.find((r) => r.msg === 'stream closed')!.audit as Record<string, unknown>;
  t.deepEqual(Object.keys(audit).filter((k) => !['stream', 'user', 'server', 'start', 'end', 'durationMs', 'bytesClientToServer', 'bytesServerToClient', 'reason', 'error'].includes(k)), [], 'the audit line has who, what, when and how much only');
});

test('S12: Redacted prints [redacted] through String, templates, JSON, util.inspect and bunyan', (t) => {
  const secret = 'hunter2-but-longer';
  const r = new Redacted(secret);
  const bytes = new Redacted(Buffer.from(secret));
  t.is(String(r), '[redacted]');
  t.is(`${r}`, '[redacted]');
  t.is(JSON.stringify(r), '"[redacted]"');
  t.is(JSON.stringify({ password: r, key: bytes }), '{"password":"[redacted]","key":"[redacted]"}');
  t.is(inspect(r), '[redacted]');
  t.false(inspect({ nested: { r, bytes } }, { depth: 10, showHidden: true }).includes(secret));
  const lines: string[] = [];
  const log = bunyan.createLogger({ name: 'x', streams: [{ level: 'trace', stream: { write: (line: string) => lines.push(line) } as unknown as NodeJS.WritableStream }] });
  log.info({ password: r, key: bytes }, 'with secrets');
  t.is(lines.length, 1);
  t.false(lines[0]!.includes(secret));
  t.like(JSON.parse(lines[0]!), { password: '[redacted]', key: '[redacted]' });
  t.is(r.reveal(), secret, 'the value is still there for whoever must use it');
});
