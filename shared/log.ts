import bunyan from 'bunyan';

export type Logger = bunyan;

/** A root logger for one process role. Logs go to stderr so stdout stays for the program's output. */
export function createLogger(name: string, level: bunyan.LogLevel = 'info'): Logger {
  return bunyan.createLogger({ name, level, stream: process.stderr, serializers: { err: bunyan.stdSerializers.err } });
}

/** A logger that drops everything: the default when a library caller injects none. */
export function silentLogger(): Logger {
  return bunyan.createLogger({ name: 'burrow', streams: [], level: bunyan.FATAL + 1 });
}
