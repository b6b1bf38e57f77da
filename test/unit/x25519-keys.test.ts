/**
 * Fresh X25519 keys: right (a DH both ways agrees) and safe to make in a loop. On Node 20,
 * generateKeyPairSync followed by an export deadlocks once the garbage collector frees an earlier
 * key-generation job during the export; a small young generation makes that happen within a few
 * thousand keys, so a child process with one makes 100,000 and must exit.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { diffieHellman } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { generateX25519, x25519FromPrivateRaw, x25519PublicFromRaw } from '../../shared/crypto/x25519-raw.js';

test('a generated pair agrees with its peer in both directions, and its raw key is the public half of its private key', (t) => {
  for (let i = 0; i < 50; i++) {
    const a = generateX25519();
    const b = generateX25519();
    const ab = diffieHellman({ privateKey: a.privateKey, publicKey: x25519PublicFromRaw(b.raw) });
    const ba = diffieHellman({ privateKey: b.privateKey, publicKey: x25519PublicFromRaw(a.raw) });
    t.true(ab.equals(ba));
    t.not(a.raw.toString('hex'), '0'.repeat(64));
  }
});

test('RFC 7748 6.1: the raw private key of Alice gives her published public key', (t) => {
  const alice = x25519FromPrivateRaw(Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex'));
  t.is(alice.raw.toString('hex'), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
});

test('100,000 keys made and exported under a 1 MiB young generation: the process does not deadlock', async (t) => {
  t.timeout(60_000);
  const module = fileURLToPath(new URL('../../shared/crypto/x25519-raw.js', import.meta.url));
  const script = `const { generateX25519 } = await import(${JSON.stringify(module)});
    let keep = [];
    for (let i = 0; i < 100000; i++) { keep.push(generateX25519()); if (keep.length > 64) keep = []; }
    console.log('made 100000');`;
  const child = spawn(process.execPath, ['--max-semi-space-size=1', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  // A deadlocked child never exits: it is killed after 45 s and the test fails on its signal.
  const killer = setTimeout(() => child.kill('SIGKILL'), 45_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
  clearTimeout(killer);
  t.deepEqual({ code, signal, out: out.trim() }, { code: 0, signal: null, out: 'made 100000' });
});
