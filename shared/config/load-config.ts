/**
 * Merges one command's options from defaults, a TOML file, BURROW_* environment variables and flags,
 * in that order, and checks every value. Pure: the caller reads the file and the environment.
 * Errors name the key and where it came from.
 */
import { BurrowError } from '../errors.js';
import type { OptionSpec } from './option-spec.js';

export type ConfigValue = string | number | boolean | string[];
export type Config = Record<string, ConfigValue | undefined>;

export interface ConfigSources {
  /** Values given as flags on the command line, by key. */
  flags: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  file?: { path: string; data: Record<string, unknown> };
}

export function loadConfig(specs: readonly OptionSpec[], sources: ConfigSources): Config {
  const config: Config = {};
  for (const spec of specs) if (spec.default !== undefined) config[spec.key] = spec.default;
  if (sources.file) {
    const { path, data } = sources.file;
    for (const [tomlKey, value] of Object.entries(data)) {
      const spec = specs.find((s) => s.toml === tomlKey);
      if (!spec) {
        const allowed = specs.map((s) => s.toml).filter((k) => k !== 'config').join(', ');
        throw new BurrowError('ERR_CONFIG', `${path}: unknown key ${JSON.stringify(tomlKey)} (allowed: ${allowed})`);
      }
      config[spec.key] = coerce(spec, value, `${path}: ${tomlKey}`, 'ERR_CONFIG');
    }
  }
  for (const spec of specs) {
    const raw = sources.env[spec.env];
    if (raw !== undefined && raw !== '') config[spec.key] = coerce(spec, spec.kind === 'list' ? raw.split(',').map((s) => s.trim()).filter(Boolean) : raw, spec.env, 'ERR_USAGE');
  }
  for (const spec of specs) {
    const value = sources.flags[spec.key];
    if (value !== undefined) config[spec.key] = coerce(spec, value, flagName(spec), 'ERR_USAGE');
  }
  return config;
}

function flagName(spec: OptionSpec): string {
  return spec.flag.split(' ')[0] ?? spec.flag;
}

/** A bad value is ERR_CONFIG in a file and ERR_USAGE on the command line or in the environment. */
function coerce(spec: OptionSpec, value: unknown, where: string, code: 'ERR_CONFIG' | 'ERR_USAGE'): ConfigValue {
  const fail = (expected: string): never => {
    throw new BurrowError(code, `${where}: expected ${expected}`);
  };
  switch (spec.kind) {
    case 'string':
      return typeof value === 'string' && value.length > 0 ? value : fail('a non-empty string');
    case 'hostport':
      return typeof value === 'string' && /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):\d{1,5}$/.test(value) ? value : fail('HOST:PORT');
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && /^(1|true|yes|on)$/i.test(value)) return true;
      if (typeof value === 'string' && /^(0|false|no|off)$/i.test(value)) return false;
      return fail('true or false');
    case 'list':
      if (typeof value === 'string') return [value];
      return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : fail('a list of strings');
    case 'int':
    case 'port': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
      const min = spec.kind === 'port' ? 0 : (spec.min ?? 0);
      const max = spec.kind === 'port' ? 65535 : (spec.max ?? Number.MAX_SAFE_INTEGER);
      return Number.isInteger(n) && n >= min && n <= max ? n : fail(`an integer from ${min} to ${max}`);
    }
  }
}
