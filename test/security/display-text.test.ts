/**
 * Issue 13, finding 5 (every string a peer chooses): a skeleton's description reaches other people's
 * terminals through `client list`. The relay refuses descriptions with control characters, line breaks or
 * bidi overrides (the whole Advertise is malformed and its connection closes), the skeleton refuses to
 * send them, and the CLI escapes anything of the kind that would still reach it.
 */
import test from 'ava';
import { forTerminal, jsonForTerminal } from '../../shared/display-text.js';
import { BurrowError } from '../../shared/errors.js';
import { parsePeerControl } from '../../shared/protocol/parse.js';
import { parseServerFields } from '../../skeleton/server-spec.js';
import { startSkeleton } from '../../skeleton/index.js';
import { Redacted } from '../../shared/redacted.js';
import { adminRequest } from '../helpers/admin.js';
import { runClient } from '../helpers/cli-inprocess.js';
import { HandControl } from '../helpers/security-control.js';
import { loginFrom } from '../helpers/security-peer.js';
import { PASSWORD, startWorld } from '../helpers/world.js';

const HOSTILE: Record<string, string> = {
  'window title (OSC 0)': 'x\u001b]0;owned\u0007',
  'clipboard write (OSC 52)': 'x\u001b]52;c;cm0gLXJmIH4K\u0007',
  'clear screen (CSI)': '\u001b[2J\u001b[H',
  'C1 CSI': 'x\u009b31m',
  'forged row': 'fine\nevil-srv\ttcp\tlooks real',
  'carriage return': 'fine\rEVIL',
  'bidi override': 'txt.\u202Eexe',
  'DEL': 'a\u007f',
  'zero-width space (hidden text)': 'pay\u200Bpal',
  'left-to-right mark': 'a\u200Eb',
  'byte-order mark': '\uFEFFsite',
  'tag characters': 'site\u{E0041}\u{E0042}',
  'a flood of combining marks': 'Z' + '\u0301'.repeat(40),
};

test('Finding 5: the relay refuses every advertised description that could drive a terminal; client list prints only clean rows', async (t) => {
  const world = await startWorld(t);
  for (const [what, description] of Object.entries(HOSTILE)) {
    const login = await loginFrom(t, { target: world.skeletonTarget, port: 'skeleton', user: 'home', password: PASSWORD, localAddress: '127.0.0.3' });
    if (!login.ok) throw new Error(login.code);
    const control = new HandControl(login.session.keys, login.peer.reader);
    control.send(control.seal({ t: 'advertise', id: 1, servers: [{ id: 'evil', description, protocol: 'tcp' }] }));
    t.deepEqual(await control.untilClosed(), [{ t: 'error', code: 'ERR_MALFORMED_FRAME' }], `${what}: refused as malformed, the connection closed`);
  }
  const good = await loginFrom(t, { target: world.skeletonTarget, port: 'skeleton', user: 'home', password: PASSWORD, localAddress: '127.0.0.3' });
  if (!good.ok) throw new Error(good.code);
  const control = new HandControl(good.session.keys, good.peer.reader);
  control.send(control.seal({ t: 'advertise', id: 1, servers: [{ id: 'web', description: 'Mein Büro – 😀', protocol: 'http' }] }));
  t.is((await control.next())?.t, 'advertised');
  const relay = ['--relay', `127.0.0.1:${world.clientTarget.port}`, '--fingerprint', world.identity.fingerprint, '--user', 'alice'];
  const out = await runClient(['list', ...relay], { env: { BURROW_PASSWORD: PASSWORD } });
  t.deepEqual(out.stdout, ['web\thttp\tMein Büro – 😀']);
  t.true(out.stdout.join('').includes('Büro'), 'ordinary text, accents and emoji pass');
  t.false(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/.test(out.stdout.join('')));
});

test('Finding 5: parse, the skeleton and the CLI each stop terminal control text', async (t) => {
  for (const [what, description] of Object.entries(HOSTILE)) {
    t.throws(() => parsePeerControl({ t: 'advertise', id: 1, servers: [{ id: 'a', description, protocol: 'tcp' }] }), { instanceOf: BurrowError }, what);
    t.true('problem' in parseServerFields(`a=127.0.0.1:80,secret-file=s,description=${description}`), `--server: ${what}`);
    const shown = forTerminal(description);
    t.false(/[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u.test(shown), `CLI: ${what}`);
    t.false(/[\u007f-\u009f\u202A-\u202E]/.test(jsonForTerminal({ description })), `--json: ${what}`);
    t.deepEqual(JSON.parse(jsonForTerminal({ description })), { description }, `--json stays the same data: ${what}`);
  }
  t.throws(() => parsePeerControl({ t: 'advertise', id: 1, servers: [{ id: 'a', description: '', protocol: 'tcp\u001b' }] }), { instanceOf: BurrowError });
  const error = await t.throwsAsync(startSkeleton({
    relay: { host: '127.0.0.1', port: 1, fingerprint: 'SHA256:x' }, user: 'u', password: new Redacted('p'),
    servers: [{ id: 'a', host: '127.0.0.1', port: 1, secret: new Redacted(Buffer.alloc(32)), description: HOSTILE['forged row']!, protocol: 'tcp' }],
  }), { instanceOf: BurrowError });
  t.is(error?.code, 'ERR_CONFIG');
});

test('Finding 5: a user name typed at login reaches the failed-logins API and the dashboard escaped', async (t) => {
  const world = await startWorld(t);
  const name = 'x\u001b]0;owned\u0007\u202Eevil';
  const outcome = await loginFrom(t, { target: world.clientTarget, port: 'client', user: name, password: 'wrong' });
  t.false(outcome.ok);
  const reply = await adminRequest(world, '/api/failed-logins');
  const [entry] = (reply.json() as { failedLogins: { user: string }[] }).failedLogins;
  t.is(entry?.user, 'x\\u{1b}]0;owned\\u{7}\\u{202e}evil');
  t.false(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202A-\u202E]/.test(reply.text), "nothing raw in the answer");
});
