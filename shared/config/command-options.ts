/**
 * Puts an option table on a commander command (help shows each env twin) and resolves the merged
 * config when the command runs: --config FILE (flag or BURROW_CONFIG) names the TOML file.
 */
import { Option, type Command } from 'commander';
import { loadConfig, type Config } from './load-config.js';
import { option, type OptionSpec } from './option-spec.js';
import { readToml } from './read-toml.js';

export const CONFIG_OPTION = option('--config <file>', 'string', 'TOML config file (flags and BURROW_* variables override it)');

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function addOptions(cmd: Command, specs: readonly OptionSpec[]): Command {
  for (const spec of specs) {
    const help = spec.default !== undefined ? `${spec.description} (default: ${String(spec.default)})` : spec.description;
    const opt = new Option(spec.flag, `${help} [env ${spec.env}]`);
    if (spec.kind === 'list') opt.argParser(collect);
    cmd.addOption(opt);
  }
  return cmd;
}

/** Flags actually given on the command line (commander may also have read the environment itself). */
function givenFlags(cmd: Command, specs: readonly OptionSpec[]): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  for (const spec of specs) {
    if (cmd.getOptionValueSource(spec.key) === 'cli') flags[spec.key] = cmd.getOptionValue(spec.key);
  }
  return flags;
}

export async function resolveConfig(cmd: Command, specs: readonly OptionSpec[], env: NodeJS.ProcessEnv, section?: string): Promise<Config> {
  const flags = givenFlags(cmd, specs);
  const path = (flags.config as string | undefined) ?? env[CONFIG_OPTION.env];
  let file: { path: string; data: Record<string, unknown> } | undefined;
  if (path) {
    const data = await readToml(path);
    const scoped = section && typeof data[section] === 'object' && data[section] !== null ? (data[section] as Record<string, unknown>) : data;
    file = { path, data: scoped };
  }
  return loadConfig(specs.filter((s) => s.key !== 'config'), { flags, env, ...(file ? { file } : {}) });
}
