/**
 * A tunnel's channel table, sans-IO: ids the initiator hands out (strictly increasing from 1, never
 * reused), the responder's check of each open (a new id above every id seen, within its cap), and what
 * a frame for an id not in the table means: one already gone (it crossed a reset) is ignored, one never
 * opened is a protocol error.
 */
export type OpenVerdict = 'ok' | 'full' | 'protocol-error';

export class ChannelTable<C> {
  readonly #channels = new Map<number, C>();
  #lastId = 0;

  constructor(readonly maxChannels = Number.POSITIVE_INFINITY) {}

  get size(): number {
    return this.#channels.size;
  }

  /** Whether the initiator has ids left to hand out. */
  get idsLeft(): boolean {
    return this.#lastId < 0xffff_ffff;
  }

  /** Initiator: the next id, with its channel made by `make`. */
  openNext(make: (id: number) => C): C {
    const channel = make(++this.#lastId);
    this.#channels.set(this.#lastId, channel);
    return channel;
  }

  /** Responder: an open for `id` arrived; the id is used up whatever the verdict. */
  admit(id: number): OpenVerdict {
    if (id <= this.#lastId) return 'protocol-error';
    this.#lastId = id;
    return this.#channels.size >= this.maxChannels ? 'full' : 'ok';
  }

  add(id: number, channel: C): void {
    this.#channels.set(id, channel);
  }

  get(id: number): C | undefined {
    return this.#channels.get(id);
  }

  /** What a frame for `id`, not in the table, means. */
  unknown(id: number): 'ignore' | 'protocol-error' {
    return id > this.#lastId ? 'protocol-error' : 'ignore';
  }

  /** Removes `channel` if it is the one under `id`; true if it was. */
  remove(id: number, channel: C): boolean {
    if (this.#channels.get(id) !== channel) return false;
    this.#channels.delete(id);
    return true;
  }

  /** Every channel, taken out of the table. */
  drain(): C[] {
    const all = [...this.#channels.values()];
    this.#channels.clear();
    return all;
  }

  values(): C[] {
    return [...this.#channels.values()];
  }
}
