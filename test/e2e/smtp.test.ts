/**
 * A whole SMTP dialogue through the tunnel: Debian's swaks as the mail client talks to a local client
 * forwarder; relay and skeleton carry it to a real SMTP server (the smtp-server package) at "home".
 * swaks is required, not optional: npm test's pretest installs it, and a missing swaks fails this test.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { startForwarder } from '../../client/io/forwarder.js';
import { silentLogger } from '../../shared/log.js';
import { connectTestClient, newSecret, server, startTestSkeleton, startWorld } from '../helpers/world.js';

interface Received {
  from: string | undefined;
  to: string[];
  message: string;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(program: string, args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
        return reject(new Error(`${program} is not installed: this test needs it (apt-get install -y ${program}; npm test's pretest installs it as root)`));
      }
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The home mail server: accepts anything without auth or TLS and hands over the first message. */
async function homeSmtpServer(t: Parameters<typeof startWorld>[0]): Promise<{ port: number; received: Promise<Received> }> {
  let deliver!: (r: Received) => void;
  const received = new Promise<Received>((resolve) => (deliver = resolve));
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        deliver({
          from: session.envelope.mailFrom === false ? undefined : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          message: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    smtp.once('error', reject);
    smtp.listen(0, '127.0.0.1', () => resolve());
  });
  t.teardown(() => new Promise<void>((resolve) => smtp.close(() => resolve())));
  return { port: (smtp.server.address() as AddressInfo).port, received };
}

test('swaks sends a mail through the tunnel to a real SMTP server: EHLO to QUIT', async (t) => {
  // Fail at once, and clearly, when swaks is missing.
  await run('swaks', ['--version']);

  const world = await startWorld(t);
  const smtp = await homeSmtpServer(t);
  const secret = newSecret();
  const skeleton = await startTestSkeleton(t, world, [server('mail', smtp.port, secret, { protocol: 'smtp' })]);
  t.deepEqual(skeleton.advertised.accepted, ['mail']);
  const client = await connectTestClient(t, world);
  const forwarder = await startForwarder({ client, serverId: 'mail', secret, host: '127.0.0.1', port: 0, log: silentLogger() });
  t.teardown(() => forwarder.close());

  const swaks = await run('swaks', [
    '--server', '127.0.0.1', '--port', String(forwarder.address.port), '--timeout', '30',
    '--from', 'a@example.test', '--to', 'b@example.test',
    '--body', 'burrow smtp marker', '--header', 'Subject: tunnel test',
  ]);
  const transcript = swaks.stdout + swaks.stderr;
  t.is(swaks.code, 0, transcript);
  for (const step of [/^ -> EHLO /m, /^ -> MAIL FROM:<a@example\.test>/m, /^ -> RCPT TO:<b@example\.test>/m, /^ -> DATA$/m, /^ -> QUIT$/m]) {
    t.regex(swaks.stdout, step);
  }
  t.regex(swaks.stdout, /^<- {1,2}250 /m, 'the server accepted the message');

  const mail = await smtp.received;
  t.is(mail.from, 'a@example.test');
  t.deepEqual(mail.to, ['b@example.test']);
  t.regex(mail.message, /^Subject: tunnel test\r?$/m);
  t.true(mail.message.includes('burrow smtp marker'), mail.message);
  t.is(forwarder.stats().failed, 0);
});
