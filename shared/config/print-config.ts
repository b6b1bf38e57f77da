/**
 * `--print-config`: the merged configuration of one command as TOML (or JSON), each value with where it
 * came from. Secret values are never shown; secret files are named, never read.
 */
import type { ConfigValue, LoadedConfig } from './load-config.js';
import type { OptionSpec } from './option-spec.js';

export interface PrintableConfig extends LoadedConfig {
  /** The command, e.g. `burrow client connect`. */
  command: string;
  /** The TOML file that was read, if any. */
  file?: string | undefined;
  /** Extra lines about values that are not options (where the password would come from). */
  notes: string[];
}

const REDACTED = '[redacted]';

function tomlValue(value: ConfigValue): string {
  // A JSON string is a valid TOML basic string; numbers and booleans are spelled the same.
  if (Array.isArray(value)) return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function originText(p: PrintableConfig, spec: OptionSpec): string {
  const origin = p.origins[spec.key];
  if (origin === 'file') return `from ${p.file ?? 'the file'}`;
  if (origin === 'env') return `from ${spec.env}`;
  if (origin === 'flag') return `from ${spec.flag.split(' ')[0]}`;
  return 'default';
}

export function formatConfigToml(specs: readonly OptionSpec[], p: PrintableConfig): string {
  const lines = [
    `# ${p.command}: merged configuration (defaults < ${p.file ?? 'no config file'} < BURROW_* environment < flags)`,
  ];
  for (const spec of specs) {
    const value = p.config[spec.key];
    if (value === undefined) lines.push(`# ${spec.toml} = (not set)`);
    else if (spec.secret === true) lines.push(`# ${spec.toml} = ${REDACTED}  # ${originText(p, spec)}`);
    else lines.push(`${spec.toml} = ${tomlValue(value)}  # ${originText(p, spec)}`);
  }
  for (const note of p.notes) lines.push(`# ${note}`);
  return lines.join('\n');
}

export function formatConfigJson(specs: readonly OptionSpec[], p: PrintableConfig): string {
  const values: Record<string, ConfigValue | null> = {};
  const sources: Record<string, string> = {};
  for (const spec of specs) {
    const value = p.config[spec.key];
    values[spec.toml] = value === undefined ? null : spec.secret === true ? REDACTED : value;
    if (value !== undefined) sources[spec.toml] = p.origins[spec.key] ?? 'default';
  }
  return JSON.stringify({ command: p.command, file: p.file ?? null, values, sources, notes: p.notes }, null, 2);
}
