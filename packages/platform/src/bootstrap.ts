/**
 * What a process needs before it loads the rest (`@shop/platform/bootstrap`): reading its
 * configuration, logging, and the embedded PostgreSQL. Kept apart from the main entry so that
 * `main.ts` can start the database first and load the app (Fastify, Kysely, the modules) while
 * PostgreSQL boots: the two overlap instead of adding up.
 */
export { ConfigError } from './config-error.ts';
export { EnvReader, formatDuration } from './config.ts';
export { tracingConfig, type TracingConfig } from './telemetry/tracing-config.ts';
export { createLogger, type Logger } from './logger.ts';
export { startEmbeddedPostgres, type EmbeddedPostgres } from './db/embedded.ts';
