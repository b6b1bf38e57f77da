/**
 * `node:child_process` for the bundle, loaded on first use (package.json's bundle step aliases the
 * module to this file). commander requires it at load for executable subcommands, which burrow has
 * none of; node compiles child_process and its internals on that require, ~15 ms of every start of
 * `burrow` (a `client stdio` per ssh connection included) for a module no command calls.
 */
import type * as ChildProcess from 'node:child_process';

let real: typeof ChildProcess | undefined;
const load = (): typeof ChildProcess => (real ??= require('child_process') as typeof ChildProcess);

export = new Proxy({} as typeof ChildProcess, {
  get: (_target, key) => load()[key as keyof typeof ChildProcess],
  has: (_target, key) => key in load(),
});
