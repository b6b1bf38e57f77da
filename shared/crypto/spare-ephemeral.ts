/**
 * One X25519 key pair made ahead of time for the next end-to-end handshake of this process. Making a
 * key pair (~0.1 ms here, more on a loaded machine) was on the path of every fresh stream, in the
 * relay's message 1 of a public leg, the skeleton's message 2 and the client's message 1: now the pair
 * is taken ready-made, and its successor is made after the current turn's I/O, while the peer works
 * on the message just sent. Each pair is used once; a spare waits in memory only until the next stream.
 */
import { generateX25519, type X25519Pair } from './x25519-raw.js';

let spare: X25519Pair | undefined;
let refilling = false;

/** A fresh key pair: the spare if one is ready, else one made now; either way the next is made soon. */
export function takeEphemeral(): X25519Pair {
  const pair = spare ?? generateX25519();
  spare = undefined;
  if (!refilling) {
    refilling = true;
    setImmediate(() => {
      refilling = false;
      spare ??= generateX25519();
    }).unref();
  }
  return pair;
}

/** Whether the next takeEphemeral() gets a pair made ahead of time (for tests). */
export function spareReady(): boolean {
  return spare !== undefined;
}
