import { pino, type DestinationStream, type Logger } from 'pino';
import { activeTraceIds } from './telemetry/trace-context.ts';

export type { Logger };

/**
 * JSON logs on stdout; `LOG_LEVEL` sets the level. Secrets in headers are never logged. A line
 * written while a request (or an event handled on its behalf) is being served carries its
 * `trace_id` and `span_id`, whichever logger wrote it: added when a line is written, rather than by a child
 * logger made for every request, which cost more than the lines it would have written.
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { pid: process.pid, ...bindings },
    redact: ['req.headers.authorization', 'headers.authorization'],
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: traceOfCurrentRequest,
  };
  return destination ? pino(options, destination) : pino(options);
}

function traceOfCurrentRequest(): { trace_id?: string; span_id?: string } {
  return activeTraceIds() ?? {};
}
