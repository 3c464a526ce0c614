import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * One logger factory so every process logs the same way.
 *
 * LOG_LEVEL (trace, debug, info, warn, error, fatal, silent; default info) sets what is written: each HTTP request is
 * a debug line, so info shows what happened to the sagas and the stack, not every call. LOG_FORMAT says how:
 * `json` (the default: one JSON object per line, for production, compose and log collectors) or `pretty` (one
 * readable, coloured line per entry: what `npm start` sets for a person at a terminal).
 */
export type LogFormat = 'json' | 'pretty';

function logFormat(env: NodeJS.ProcessEnv = process.env): LogFormat {
  return env.LOG_FORMAT?.trim().toLowerCase() === 'pretty' ? 'pretty' : 'json';
}

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  if (logFormat() === 'json') return pino({ name, level });
  const stream = pretty({
    colorize: process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name,service',
    singleLine: true, // the fields on the same line, not one per line
    // "[orders] orders service listening" rather than a name buried in the fields.
    messageFormat: (log, messageKey) => `[${String(log.service ?? log.name)}] ${String(log[messageKey])}`,
    sync: true, // nothing lost when the process exits right after a line
  });
  return pino({ name, level }, stream);
}
export type { Logger };
