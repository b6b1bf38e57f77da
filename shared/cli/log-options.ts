/** The --log-level option every long-running command shares, and the logger it makes. */
import { BurrowError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { option } from '../config/option-spec.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

export function logLevelOption(defaultLevel: string) {
  return option('--log-level <level>', 'string', 'trace, debug, info, warn, error or fatal (logs are JSON on stderr)', {
    default: defaultLevel,
    check: (v) => ((LEVELS as readonly string[]).includes(v) ? undefined : `expected one of ${LEVELS.join(', ')}`),
  });
}

/** Daemons (relay, skeleton) log their lifecycle; interactive client commands only what goes wrong. */
export const LOG_LEVEL_OPTION = logLevelOption('info');

export function loggerFor(name: string, level: unknown): Logger {
  if (typeof level !== 'string' || !(LEVELS as readonly string[]).includes(level)) {
    throw new BurrowError('ERR_USAGE', `--log-level: expected one of ${LEVELS.join(', ')}`);
  }
  return createLogger(name, level as (typeof LEVELS)[number]);
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
