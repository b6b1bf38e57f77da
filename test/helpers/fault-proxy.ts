/**
 * A TCP proxy that can cut the network path without closing anything: cut() stops carrying bytes, ends
 * and closes both ways on every connection (what was sent waits, as it would in a dead router's queue);
 * new connections are accepted but held, as if their SYN were still being retried. heal() delivers
 * what waited, in order, then carries on; held connections are connected upstream. Nothing ever goes
 * through while cut, so only heartbeats can tell a peer that the other side is gone.
 */
import type { ExecutionContext } from 'ava';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

type Pending = { kind: 'data'; chunk: Buffer } | { kind: 'end' } | { kind: 'close' };

/** One direction of a proxied connection. */
class Leg {
  readonly queue: Pending[] = [];
  constructor(readonly from: Socket, public to: Socket | undefined, private readonly proxy: FaultProxy) {
    from.on('data', (chunk: Buffer) => this.#push({ kind: 'data', chunk }));
    from.on('end', () => this.#push({ kind: 'end' }));
    from.on('error', () => undefined);
    from.once('close', () => this.#push({ kind: 'close' }));
  }

  #push(p: Pending): void {
    this.queue.push(p);
    this.flush();
  }

  flush(): void {
    if (this.proxy.isCut || !this.to) return;
    const to = this.to;
    for (let p = this.queue.shift(); p; p = this.queue.shift()) {
      if (p.kind === 'data' && !to.destroyed) {
        if (!to.write(p.chunk)) {
          this.from.pause();
          to.once('drain', () => this.from.resume());
        }
      } else if (p.kind === 'end' && !to.destroyed) {
        to.end();
      } else if (p.kind === 'close') {
        to.destroy();
      }
    }
  }
}

export class FaultProxy {
  readonly server: Server;
  #cut = false;
  readonly #legs = new Set<Leg>();
  readonly #held: Socket[] = [];
  readonly #downstream = new Set<Socket>();
  readonly #all = new Set<Socket>();

  private constructor(private readonly host: string, private readonly upstreamPort: number) {
    this.server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (down) => this.#accept(down));
  }

  /** A proxy on `host` (the fault world's relay address) toward `host:upstreamPort`. */
  static async start(t: ExecutionContext, host: string, upstreamPort: number): Promise<FaultProxy> {
    const proxy = new FaultProxy(host, upstreamPort);
    await new Promise<void>((resolve) => proxy.server.listen(0, host, resolve));
    t.teardown(() => proxy.close());
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get isCut(): boolean {
    return this.#cut;
  }

  cut(): void {
    this.#cut = true;
  }

  heal(): void {
    this.#cut = false;
    for (const down of this.#held.splice(0)) this.#connect(down);
    for (const leg of this.#legs) leg.flush();
  }

  /** Forgets every connection made so far without a word to either end (a NAT that lost its state). */
  dropSilently(): Socket[] {
    const old = [...this.#downstream];
    for (const leg of this.#legs) leg.to = undefined;
    this.#legs.clear();
    return old;
  }

  close(): Promise<void> {
    for (const s of this.#all) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  #accept(down: Socket): void {
    this.#downstream.add(down);
    this.#all.add(down);
    down.once('close', () => this.#downstream.delete(down));
    down.on('error', () => undefined);
    if (this.#cut) {
      this.#held.push(down);
      return;
    }
    this.#connect(down);
  }

  #connect(down: Socket): void {
    const up = connect({ port: this.upstreamPort, host: this.host, allowHalfOpen: true });
    up.on('error', () => undefined);
    this.#all.add(up);
    this.#legs.add(new Leg(down, up, this));
    this.#legs.add(new Leg(up, down, this));
    down.resume();
  }
}
