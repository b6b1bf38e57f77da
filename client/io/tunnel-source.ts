/**
 * The tunnel a forwarder's connections ride on: opened on first use, shared by every connection while
 * it lives, opened again after it is lost, and ended after it has carried no channel for `idleMs`.
 */
import type { Socket } from 'node:net';
import { BurrowError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { Channel } from '../../shared/tunnel/tunnel-channel.js';
import type { Tunnel } from '../../shared/tunnel/tunnel.js';

export const TUNNEL_IDLE_MS = 5 * 60_000;

export class TunnelSource {
  #tunnel: Tunnel | undefined;
  #opening: Promise<Tunnel> | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly open: () => Promise<Tunnel>,
    private readonly log: Logger,
    private readonly idleMs = TUNNEL_IDLE_MS,
  ) {}

  /**
   * A channel for `local` on the current tunnel, opening one first if there is none. A skeleton that is
   * stopping refuses it with ERR_SHUTTING_DOWN: that tunnel then takes no new channel (it ends with its
   * running ones, as the skeleton ends it), and the connection is given back whole (what it sent, up to
   * REPLAY_LIMIT, back in its read buffer) for the caller to carry on a new tunnel (see isRetryable).
   */
  async openChannel(local: Socket): Promise<Channel> {
    const tunnel = await this.#get();
    clearTimeout(this.#idleTimer);
    const channel = tunnel.openChannel(local);
    channel.keepLocalIfRefused = (code) => code === 'ERR_SHUTTING_DOWN';
    void channel.settled.then((result) => {
      if (result.refused && result.code === 'ERR_SHUTTING_DOWN') this.#leave(tunnel);
    });
    return channel;
  }

  /** The server's skeleton is stopping: new connections go through a new tunnel (to wherever the relay routes the id now). */
  #leave(tunnel: Tunnel): void {
    if (this.#tunnel !== tunnel) return;
    this.#tunnel = undefined;
    this.log.info({ channels: tunnel.channelCount }, "the server's skeleton is stopping: new connections go through a new tunnel");
    if (tunnel.channelCount === 0) tunnel.end();
    else tunnel.once('idle', () => tunnel.end());
  }

  /**
   * The relay said Goodbye: open no new channel on the current tunnel (the next connection opens a new
   * one, through the session made again), and end it as soon as its last channel ends, so the relay's
   * drain ends with the work instead of waiting for an idle tunnel to time out.
   */
  drain(): void {
    const tunnel = this.#tunnel;
    this.#tunnel = undefined;
    if (!tunnel) return;
    this.log.info({ channels: tunnel.channelCount }, 'relay going away: ending the tunnel once its channels end');
    if (tunnel.channelCount === 0) tunnel.end();
    else tunnel.once('idle', () => tunnel.end());
  }

  /** Ends the tunnel (its authenticated end); resolves once the peer answered with its own, or after `graceMs`. */
  close(graceMs = 1000): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    const tunnel = this.#tunnel;
    if (!tunnel) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const grace = setTimeout(resolve, graceMs);
      tunnel.once('close', () => {
        clearTimeout(grace);
        resolve();
      });
      tunnel.end();
    });
  }

  #get(): Promise<Tunnel> {
    if (this.#closed) return Promise.reject(new BurrowError('ERR_CONNECTION_CLOSED', 'forwarder closed'));
    if (this.#tunnel?.usable) return Promise.resolve(this.#tunnel);
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #open(): Promise<Tunnel> {
    const tunnel = await this.open();
    if (this.#closed) {
      tunnel.end();
      throw new BurrowError('ERR_CONNECTION_CLOSED', 'forwarder closed');
    }
    this.#tunnel = tunnel;
    this.log.debug('tunnel opened');
    tunnel.on('close', (code) => {
      if (this.#tunnel === tunnel) this.#tunnel = undefined;
      if (code && !this.#closed) this.log.info({ code }, 'tunnel lost; the next connection opens a new one');
    });
    tunnel.on('idle', () => {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = setTimeout(() => {
        if (tunnel.channelCount === 0) tunnel.end();
      }, this.idleMs).unref();
    });
    return tunnel;
  }
}

/** A channel refused by a stopping skeleton that gave its connection back whole: it can be carried on a new channel. */
export function isRetryable(result: { localKept?: boolean }, local: Socket): boolean {
  return result.localKept === true && !local.destroyed;
}
