/**
 * What an initiator's channel sent before `opened`, kept so a refusal (a stopping skeleton's
 * ERR_SHUTTING_DOWN) can give its local socket back whole: up to REPLAY_LIMIT bytes, views of the chunks
 * read (nothing copied), the list made only when a first piece is kept. Sans-IO.
 */

/** Bytes a channel keeps, until `opened`, to give back to its local socket if it is refused (keepLocalIfRefused). */
export const REPLAY_LIMIT = 64 * 1024;

export class ChannelReplay {
  #pieces: Buffer[] | undefined;
  #bytes = 0;
  #possible = true;

  /** True while everything sent so far is kept (not opened, not over the limit, not dropped). */
  get possible(): boolean {
    return this.#possible;
  }

  /** What was sent, in order (empty if nothing was). */
  get pieces(): Buffer[] {
    return this.#pieces ?? [];
  }

  keep(piece: Buffer): void {
    if (!this.#possible) return;
    this.#bytes += piece.length;
    if (this.#bytes > REPLAY_LIMIT) this.drop();
    else (this.#pieces ??= []).push(piece);
  }

  /** Nothing more can be given back (opened, past REPLAY_LIMIT, or over). */
  drop(): void {
    this.#possible = false;
    this.#pieces = undefined;
  }
}
