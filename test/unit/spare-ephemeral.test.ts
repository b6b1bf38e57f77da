/**
 * The key pair of a stream's handshake is made ahead of time (after the previous one's turn), not on
 * the path of the stream; each pair is used once.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { beginInitiator } from '../../shared/crypto/secure-stream.js';
import { spareReady, takeEphemeral } from '../../shared/crypto/spare-ephemeral.js';
import { HandshakeState } from '../../shared/crypto/noise/handshake-state.js';
import { generateX25519 } from '../../shared/crypto/x25519-raw.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('a spare pair is ready after the turn that took one, and the next handshake takes it', async (t) => {
  const first = takeEphemeral();
  const second = takeEphemeral();
  t.false(first.raw.equals(second.raw));
  await turn();
  t.true(spareReady());
  beginInitiator({ psk: randomBytes(32), serverId: 'home-web' });
  t.false(spareReady(), 'message 1 used the spare');
  await turn();
  t.true(spareReady(), 'and the next one is made after the turn');
});

test('a handshake sends the ephemeral public key its key source gave it', (t) => {
  const pair = generateX25519();
  const handshake = new HandshakeState({ pattern: 'NN', cipher: 'AESGCM', initiator: true, prologue: Buffer.alloc(0), ephemeral: () => pair });
  const message1 = handshake.writeMessage(Buffer.alloc(0));
  t.true(message1.subarray(0, 32).equals(pair.raw));
});
