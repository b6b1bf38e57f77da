/**
 * One table per command of the options it takes. Each option is a flag, a BURROW_* environment twin
 * and a key in the TOML config file, with one type and one default: defaults < file < env < flags.
 */
import { isAbsolute, join } from 'node:path';

export type OptionKind = 'string' | 'int' | 'port' | 'bool' | 'list' | 'hostport';

export interface OptionSpec {
  /** Attribute name (camelCase) as commander stores it, e.g. clientPort. */
  key: string;
  /** Flag as commander takes it, e.g. '--client-port <port>'. */
  flag: string;
  /** TOML key (kebab-case, as the flag) in the config file. */
  toml: string;
  /** Environment twin, e.g. BURROW_CLIENT_PORT. */
  env: string;
  kind: OptionKind;
  description: string;
  default?: string | number | boolean | string[];
  /** For int: inclusive bounds. */
  min?: number;
  max?: number;
  /**
   * A further check of one value (each element of a list) once its kind is right: returns what is
   * wrong and what is allowed, or undefined when the value is good. Runs at load time, for every source.
   */
  check?: (value: string) => string | undefined;
  /** The value itself is a secret: --print-config never shows it. */
  secret?: boolean;
  /**
   * The value names a file or directory: in a config file, a relative one is relative to the directory
   * of that config file (flags and BURROW_* variables stay relative to the working directory). `true`
   * for a plain path; a function for a value that holds paths inside it (a --server spec).
   */
  path?: true | ((value: string, dir: string) => string);
}

/** A path as written in a config file in `dir`: absolute paths as they are, relative ones joined to `dir`. */
export function pathInDir(value: string, dir: string): string {
  return isAbsolute(value) ? value : join(dir, value);
}

/** Builds a spec from a flag: '--client-port <port>' -> key clientPort, toml client-port, env BURROW_CLIENT_PORT. */
export function option(flag: string, kind: OptionKind, description: string, extra: Partial<OptionSpec> = {}): OptionSpec {
  const name = /--([a-z0-9-]+)/.exec(flag)?.[1];
  if (!name) throw new Error(`bad flag ${flag}`);
  const key = name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  return { key, flag, toml: name, env: `BURROW_${name.replace(/-/g, '_').toUpperCase()}`, kind, description, ...extra };
}
