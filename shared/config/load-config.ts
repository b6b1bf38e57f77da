/**
 * Merges one command's options from defaults, a TOML file, BURROW_* environment variables and flags,
 * in that order, and checks every value. A relative path in the file is relative to the file's directory. Pure: the caller reads the file and the environment.
 * Errors name the key and where it came from (the file, the variable or the flag) and what is allowed.
 */
import { dirname } from 'node:path';
import { BurrowError } from '../errors.js';
import { hostPortProblem } from '../peer/relay-address.js';
import { pathInDir, type OptionSpec } from './option-spec.js';

export type ConfigValue = string | number | boolean | string[];
export type Config = Record<string, ConfigValue | undefined>;
/** Where a merged value came from. */
export type ConfigOrigin = 'default' | 'file' | 'env' | 'flag';

export interface ConfigSources {
  /** Values given as flags on the command line, by key. */
  flags: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  file?: { path: string; data: Record<string, unknown> };
  /**
   * TOML keys a shared file may hold for sibling commands (one client.toml serves list, connect and
   * stdio): ignored here, yet still checked by the sibling that uses them. Anything else is unknown.
   */
  siblingKeys?: readonly string[];
}

export interface LoadedConfig {
  config: Config;
  origins: Record<string, ConfigOrigin>;
}

export function loadConfig(specs: readonly OptionSpec[], sources: ConfigSources): Config {
  return loadConfigWithOrigins(specs, sources).config;
}

export function loadConfigWithOrigins(specs: readonly OptionSpec[], sources: ConfigSources): LoadedConfig {
  const config: Config = {};
  const origins: Record<string, ConfigOrigin> = {};
  const set = (spec: OptionSpec, value: ConfigValue, origin: ConfigOrigin): void => {
    config[spec.key] = value;
    origins[spec.key] = origin;
  };
  for (const spec of specs) if (spec.default !== undefined) set(spec, spec.default, 'default');
  if (sources.file) {
    const { path, data } = sources.file;
    for (const [tomlKey, value] of Object.entries(data)) {
      const spec = specs.find((s) => s.toml === tomlKey);
      if (spec) {
        set(spec, relativeToFile(spec, coerce(spec, value, `${path}: ${tomlKey}`, 'ERR_CONFIG'), dirname(path)), 'file');
      } else if (!sources.siblingKeys?.includes(tomlKey)) {
        const allowed = [...new Set([...specs.map((s) => s.toml), ...(sources.siblingKeys ?? [])])].filter((k) => k !== 'config').join(', ');
        throw new BurrowError('ERR_CONFIG', `${path}: unknown key ${JSON.stringify(tomlKey)} (allowed: ${allowed})`);
      }
    }
  }
  for (const spec of specs) {
    const raw = sources.env[spec.env];
    if (raw !== undefined && raw !== '') set(spec, coerce(spec, spec.kind === 'list' ? raw.split(',').map((s) => s.trim()).filter(Boolean) : raw, spec.env, 'ERR_USAGE'), 'env');
  }
  for (const spec of specs) {
    const value = sources.flags[spec.key];
    if (value !== undefined) set(spec, coerce(spec, value, flagName(spec), 'ERR_USAGE'), 'flag');
  }
  return { config, origins };
}

/** A path read from a config file in `dir` is relative to `dir` (OptionSpec.path). */
function relativeToFile(spec: OptionSpec, value: ConfigValue, dir: string): ConfigValue {
  const { path } = spec;
  if (path === undefined) return value;
  const one = (v: string): string => (path === true ? pathInDir(v, dir) : path(v, dir));
  if (Array.isArray(value)) return value.map(one);
  return typeof value === 'string' ? one(value) : value;
}

export function flagName(spec: OptionSpec): string {
  return spec.flag.split(' ')[0] ?? spec.flag;
}

/** A bad value is ERR_CONFIG in a file and ERR_USAGE on the command line or in the environment. */
function coerce(spec: OptionSpec, value: unknown, where: string, code: 'ERR_CONFIG' | 'ERR_USAGE'): ConfigValue {
  const fail = (problem: string): never => {
    throw new BurrowError(code, `${where}: ${problem}`);
  };
  const checked = <T extends ConfigValue>(v: T): T => {
    for (const item of Array.isArray(v) ? v : typeof v === 'string' ? [v] : []) {
      const problem = spec.check?.(item);
      if (problem !== undefined) fail(Array.isArray(v) ? `${JSON.stringify(item)}: ${problem}` : problem);
    }
    return v;
  };
  switch (spec.kind) {
    case 'string':
      return checked(typeof value === 'string' && value.length > 0 ? value : fail('expected a non-empty string'));
    case 'hostport': {
      const problem = typeof value === 'string' ? hostPortProblem(value) : 'expected HOST:PORT (IPv6 as [ADDR]:PORT)';
      return checked(problem === undefined ? (value as string) : fail(problem));
    }
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && /^(1|true|yes|on)$/i.test(value)) return true;
      if (typeof value === 'string' && /^(0|false|no|off)$/i.test(value)) return false;
      return fail('expected true or false');
    case 'list':
      if (typeof value === 'string') return checked([value]);
      return checked(Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : fail('expected a list of strings'));
    case 'int':
    case 'port': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
      const min = spec.kind === 'port' ? 0 : (spec.min ?? 0);
      const max = spec.kind === 'port' ? 65535 : (spec.max ?? Number.MAX_SAFE_INTEGER);
      return Number.isInteger(n) && n >= min && n <= max ? n : fail(`expected an integer from ${min} to ${max}`);
    }
  }
}
