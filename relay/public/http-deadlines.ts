/**
 * The two clocks of a public HTTP connection between requests. The head deadline (slowloris): the next
 * request head must be complete within `headMs` of the connection opening or going idle, however its
 * bytes trickle in. The keep-alive timeout: an idle connection with no byte for `keepAliveMs` closes.
 * Either ends the connection through its callback; 0 turns a clock off.
 */
export class HttpDeadlines {
  #head: NodeJS.Timeout | undefined;
  #keepAlive: NodeJS.Timeout | undefined;

  constructor(
    private readonly headMs: number,
    private readonly keepAliveMs: number,
    private readonly onHeadLate: () => void,
    private readonly onIdle: () => void,
  ) {}

  /** A head is awaited from now. */
  awaitHead(): void {
    this.headArrived();
    if (this.headMs > 0) this.#head = setTimeout(() => {
      this.#head = undefined;
      this.onHeadLate();
    }, this.headMs);
  }

  headArrived(): void {
    if (this.#head) clearTimeout(this.#head);
    this.#head = undefined;
  }

  /** Idle after an answer: a head is awaited, and the connection closes if not a byte comes. */
  idle(): void {
    this.awaitHead();
    this.byteArrived();
    if (this.keepAliveMs > 0) this.#keepAlive = setTimeout(this.onIdle, this.keepAliveMs);
  }

  /** A byte of the next request came: the keep-alive clock stops, the head deadline runs on. */
  byteArrived(): void {
    if (this.#keepAlive) clearTimeout(this.#keepAlive);
    this.#keepAlive = undefined;
  }

  stop(): void {
    this.headArrived();
    this.byteArrived();
  }
}
