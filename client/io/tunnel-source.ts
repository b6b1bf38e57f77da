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

  /** A channel for `local` on the current tunnel, opening one first if there is none. */
  async openChannel(local: Socket): Promise<Channel> {
    const tunnel = await this.#get();
    clearTimeout(this.#idleTimer);
    return tunnel.openChannel(local);
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

  close(): void {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    this.#tunnel?.end();
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
