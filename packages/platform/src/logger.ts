import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout; `LOG_LEVEL` sets the level. Secrets in headers are never logged. */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { pid: process.pid, ...bindings },
    redact: ['req.headers.authorization', 'headers.authorization'],
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
