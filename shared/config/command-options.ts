/**
 * Puts an option table on a commander command (help shows each env twin) and resolves the merged
 * config when the command runs: --config FILE (flag or BURROW_CONFIG) names the TOML file.
 * Every such command also takes --print-config (TOML) and --print-config-json: print the merged
 * result and exit 0 without starting anything.
 */
import { Option, type Command } from 'commander';
import { loadConfigWithOrigins, type Config, type ConfigValue, type LoadedConfig } from './load-config.js';
import { option, type OptionSpec } from './option-spec.js';
import { formatConfigJson, formatConfigToml } from './print-config.js';
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
  cmd.addOption(new Option('--print-config', 'print the merged configuration as TOML (secrets redacted) and exit'));
  cmd.addOption(new Option('--print-config-json', 'print the merged configuration as JSON (secrets redacted) and exit'));
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

export interface ResolveOptions {
  /** TOML keys of sibling commands sharing one file (see ConfigSources.siblingKeys). */
  siblingKeys?: readonly string[];
  /** Defaults known only when the command runs (e.g. a path under $HOME), by key. */
  defaults?: Record<string, ConfigValue>;
}

export async function resolveLoaded(
  cmd: Command, specs: readonly OptionSpec[], env: NodeJS.ProcessEnv, opts: ResolveOptions = {},
): Promise<LoadedConfig & { file?: string }> {
  const flags = givenFlags(cmd, specs);
  const path = (flags.config as string | undefined) ?? env[CONFIG_OPTION.env];
  const file = path ? { path, data: await readToml(path) } : undefined;
  const own = specs.filter((s) => s.key !== 'config').map((s) => (opts.defaults?.[s.key] !== undefined && s.default === undefined ? { ...s, default: opts.defaults[s.key] } : s));
  const loaded = loadConfigWithOrigins(own, { flags, env, ...(file ? { file } : {}), ...(opts.siblingKeys ? { siblingKeys: opts.siblingKeys } : {}) });
  return path ? { ...loaded, file: path } : loaded;
}

export async function resolveConfig(cmd: Command, specs: readonly OptionSpec[], env: NodeJS.ProcessEnv, opts: ResolveOptions = {}): Promise<Config> {
  return (await resolveLoaded(cmd, specs, env, opts)).config;
}

/**
 * The merged config, or undefined after printing it when --print-config(-json) was given: the caller
 * then returns without starting anything. `notes` describe values that are not options (the password).
 */
export async function configOrPrint(
  cmd: Command, specs: readonly OptionSpec[], ctx: { env: NodeJS.ProcessEnv; stdout: (line: string) => void },
  opts: ResolveOptions & { notes?: (config: Config) => string[] } = {},
): Promise<Config | undefined> {
  const loaded = await resolveLoaded(cmd, specs, ctx.env, opts);
  const toml = cmd.getOptionValue('printConfig') === true;
  const json = cmd.getOptionValue('printConfigJson') === true;
  if (!toml && !json) return loaded.config;
  const own = specs.filter((s) => s.key !== 'config');
  const printable = { ...loaded, command: commandPath(cmd), notes: opts.notes?.(loaded.config) ?? [] };
  ctx.stdout(json ? formatConfigJson(own, printable) : formatConfigToml(own, printable));
  return undefined;
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
