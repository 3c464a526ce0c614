import pino, { type Logger } from 'pino';

/** One logger factory so every process logs the same way; LOG_LEVEL=silent keeps test output readable. */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level });
}
export type { Logger };
