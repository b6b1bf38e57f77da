/**
 * A port a command cannot listen on, told in the command's own terms: which flag chose it, what is
 * wrong, and what to do. Exit code 2 (ERR_LISTEN): it is fixed by changing the configuration.
 */
import { BurrowError } from '../errors.js';
import { ListenError, type Listener } from '../net/listen-on.js';

/** For each listener of a command, the flag that picks its port and the one that picks its address. */
export type ListenFlags = Partial<Record<Listener, { port: string; host: string }>>;

export function explainListen(err: unknown, flags: ListenFlags): unknown {
  if (!(err instanceof ListenError)) return err;
  const f = flags[err.listener];
  if (!f) return err;
  switch (err.reason) {
    case 'EADDRINUSE':
      return new BurrowError('ERR_LISTEN', `${f.port} ${err.address}: already in use by another program (another burrow?): stop it, or choose another port with ${f.port}`);
    case 'EACCES':
      return new BurrowError('ERR_LISTEN', `${f.port} ${err.address}: permission denied: ports below 1024 need root (or CAP_NET_BIND_SERVICE); choose a port from 1024 up with ${f.port}`);
    case 'EADDRNOTAVAIL':
      return new BurrowError('ERR_LISTEN', `${f.host} ${err.address}: not an address of this machine: use 0.0.0.0 (every address), 127.0.0.1, or one that ip addr shows`);
    default:
      return new BurrowError('ERR_LISTEN', `${f.port} ${err.address}: ${err.reason}`);
  }
}
