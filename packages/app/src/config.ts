import path from 'node:path';
import { ConfigError, EnvReader, formatDuration, tracingConfig, type TracingConfig } from '@shop/platform/bootstrap';
import type { AuthSettings, ModuleRolesMode, OutboxOptions, RetentionOptions } from '@shop/platform';
import { notificationsConfig } from '@shop/notifications/settings';
import { paymentsConfig } from '@shop/payments/settings';

import { MODULE_NAMES, topologyConfig, type ModuleName, type Topology } from './topology-config.ts';

export { MODULE_NAMES, type ModuleName } from './topology-config.ts';

/**
 * The modules with settings of their own, each read and checked by the module's `settings`
 * entry point (light: no module loads to read them), at start, whichever modules are hosted,
 * so a bad value stops any process with one line.
 */
const MODULE_SETTINGS = {
  payments: paymentsConfig,
  notifications: notificationsConfig,
} satisfies Partial<Record<ModuleName, (read: EnvReader, production: boolean) => unknown>>;

export type ModuleSettings = { readonly [M in keyof typeof MODULE_SETTINGS]: ReturnType<(typeof MODULE_SETTINGS)[M]> };

/** Everything the process reads from its environment, validated once at start. */
export interface AppConfig {
  readonly production: boolean;
  readonly port: number;
  readonly host: string;
  /** `ADMIN_PORT`: `/metrics`, `/docs` and `/openapi.json` (with `/health`, `/ready`) on their own listener; unset = on `port`. */
  readonly adminPort?: number | undefined;
  /** Unset: the embedded PostgreSQL under `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  /** Unset secret (development only): one is generated and kept under `dataDir`. */
  readonly auth: AuthSettings | { kind: 'hs256-dev' };
  readonly logLevel: string;
  /** `ACCESS_LOG=on`: a log line per answered request. */
  readonly accessLog: boolean;
  /** Traces exported over OTLP: set by the standard `OTEL_*` variables; unset, no span is built. */
  readonly tracing: TracingConfig | undefined;
  /** The modules hosted here (MODULES). */
  readonly modules: readonly ModuleName[];
  /** Where every module lives, events between processes, and the service credential. */
  readonly topology: Topology;
  readonly shutdownTimeoutMs: number;
  /** `SHUTDOWN_DRAIN_MS`: after SIGTERM, how long `/ready` answers 503 while every request is still served (part of the timeout). */
  readonly shutdownDrainMs: number;
  readonly dbPoolSize: number;
  /** `DB_MODULE_ROLES`: each module connects as its own role (`auto`, `on`) or as DATABASE_URL's user (`off`). */
  readonly dbModuleRoles: ModuleRolesMode;
  /** `<MODULE>_DATABASE_URL`: pre-created module roles, by module (schema); the rest are created by the owner. */
  readonly moduleDatabaseUrls: Readonly<Partial<Record<ModuleName, string>>>;
  readonly outbox: OutboxOptions;
  /** `OUTBOX_RETENTION`, `INBOX_RETENTION`, `RETENTION_INTERVAL`: what each module prunes, and how often. */
  readonly retention: RetentionOptions;
  /** Each module's own settings, by module. */
  readonly settings: ModuleSettings;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const read = new EnvReader(env);
  const production = read.raw('NODE_ENV') === 'production';
  const databaseUrl = read.url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const topology = topologyConfig(read);
  const port = read.integer('PORT', 8080, 0, 65_535);
  const config: AppConfig = {
    production,
    port,
    host: read.string('HOST', '0.0.0.0'),
    adminPort: adminPort(read, port),
    databaseUrl: databaseUrl ? read.raw('DATABASE_URL') : undefined,
    dataDir: path.resolve(read.string('DATA_DIR', './.data')),
    auth: authSettings(read, production),
    logLevel: read.oneOf('LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    accessLog: read.oneOf('ACCESS_LOG', 'off', ['on', 'off']) === 'on',
    tracing: tracingConfig(read),
    modules: topology.hosted,
    topology,
    ...shutdown(read, production),
    dbPoolSize: read.integer('DB_POOL_SIZE', 10, 1, 500),
    ...moduleRoles(read, databaseUrl),
    outbox: {
      maxAttempts: read.integer('OUTBOX_MAX_ATTEMPTS', 10, 1, 1_000),
      sweepIntervalMs: read.integer('OUTBOX_SWEEP_INTERVAL_MS', 1_000, 10, 3_600_000),
      retryBaseMs: read.integer('OUTBOX_RETRY_BASE_MS', 500, 1, 3_600_000),
    },
    retention: retention(read, topology),
    settings: Object.fromEntries(Object.entries(MODULE_SETTINGS).map(([name, settingsOf]) => [name, settingsOf(read, production)])) as unknown as ModuleSettings,
  };
  embeddedPostgres(read, production, databaseUrl);
  return config;
}

/**
 * EMBEDDED_POSTGRES (`on`, `off`, unset): whether the embedded PostgreSQL may run when
 * DATABASE_URL is unset. Unset allows it except in production, where its data would live in a
 * directory nobody backs up: production refuses to start without DATABASE_URL unless `on` says
 * it is meant. `off` refuses in any environment. Checked last, so a missing secret is named first.
 */
function embeddedPostgres(read: EnvReader, production: boolean, databaseUrl: URL | undefined): void {
  const mode = read.oneOf<'on' | 'off' | 'unset'>('EMBEDDED_POSTGRES', 'unset', ['on', 'off']);
  if (databaseUrl) {
    if (mode === 'on') throw new ConfigError('EMBEDDED_POSTGRES=on and DATABASE_URL are both set; choose one');
    return;
  }
  if (mode === 'off') throw new ConfigError('DATABASE_URL is required: EMBEDDED_POSTGRES=off refuses to start the embedded PostgreSQL');
  if (production && mode !== 'on') {
    throw new ConfigError('DATABASE_URL is required when NODE_ENV=production (the embedded PostgreSQL would keep the data under DATA_DIR; set EMBEDDED_POSTGRES=on if that is meant)');
  }
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** How long the NATS stream keeps an event (`max_age` of the stream the bus creates: nats-bus.ts). */
const NATS_STREAM_RETENTION_MS = 7 * DAY_MS;

/**
 * OUTBOX_RETENTION, INBOX_RETENTION (a duration: `7d`, `36h`; a bare number is hours) and
 * RETENTION_INTERVAL. An inbox row guards against a second delivery of its event, so it must
 * outlive every copy that could still arrive: the outbox's delivered row (replayable while kept)
 * and, across processes, the NATS stream's copy (kept 7 days); a day more than each covers the
 * retries of a pending event. The whole rule is at RetentionOptions (events/retention.ts).
 */
function retention(read: EnvReader, topology: Topology): RetentionOptions {
  const outboxRetentionMs = read.duration('OUTBOX_RETENTION', 7 * DAY_MS, HOUR_MS, 3650 * DAY_MS);
  const inboxRetentionMs = read.duration('INBOX_RETENTION', Math.max(14 * DAY_MS, outboxRetentionMs + DAY_MS), HOUR_MS, 3651 * DAY_MS);
  const intervalMs = read.duration('RETENTION_INTERVAL', 15 * 60_000, 60_000, DAY_MS);
  const floors = [{ ms: outboxRetentionMs + DAY_MS, why: `OUTBOX_RETENTION (${formatDuration(outboxRetentionMs)}) plus a day: a delivered outbox row can be replayed while it is kept` }];
  if (topology.natsUrl) floors.push({ ms: NATS_STREAM_RETENTION_MS + DAY_MS, why: `the NATS stream's ${formatDuration(NATS_STREAM_RETENTION_MS)} plus a day: a consumer can receive an event again while the stream keeps it` });
  for (const floor of floors) {
    if (inboxRetentionMs < floor.ms) {
      throw new ConfigError(`INBOX_RETENTION must be at least ${formatDuration(floor.ms)}, ${floor.why}, and the inbox row is what makes that second delivery harmless (got "${read.raw('INBOX_RETENTION')}")`);
    }
  }
  return { outboxRetentionMs, inboxRetentionMs, intervalMs };
}

/** ADMIN_PORT: a port of its own for the operations routes, never the public one. */
function adminPort(read: EnvReader, port: number): number | undefined {
  if (read.raw('ADMIN_PORT') === undefined) return undefined;
  const adminPort = read.integer('ADMIN_PORT', 0, 1, 65_535);
  if (adminPort === port) throw new ConfigError(`ADMIN_PORT must differ from PORT (both are ${port})`);
  return adminPort;
}

/**
 * SHUTDOWN_TIMEOUT_MS bounds the whole shutdown, drain included; SHUTDOWN_DRAIN_MS is the part
 * spent answering `/ready` with 503 while still serving, so a load balancer stops sending before
 * the listener closes. 5 s in production (at most half a shorter timeout), 0 elsewhere: a
 * developer's Ctrl-C, or a test's SIGTERM, should not wait for a balancer that isn't there.
 * An explicit drain must leave time to finish in-flight work within the timeout.
 */
function shutdown(read: EnvReader, production: boolean): Pick<AppConfig, 'shutdownTimeoutMs' | 'shutdownDrainMs'> {
  const shutdownTimeoutMs = read.integer('SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000);
  const shutdownDrainMs = read.integer('SHUTDOWN_DRAIN_MS', production ? Math.min(5_000, Math.floor(shutdownTimeoutMs / 2)) : 0, 0, 600_000);
  if (shutdownDrainMs > 0 && shutdownDrainMs >= shutdownTimeoutMs) {
    throw new ConfigError(`SHUTDOWN_DRAIN_MS must be less than SHUTDOWN_TIMEOUT_MS (${shutdownTimeoutMs}), which bounds the whole shutdown, drain included (got "${shutdownDrainMs}")`);
  }
  return { shutdownTimeoutMs, shutdownDrainMs };
}

/** DB_MODULE_ROLES and the pre-created roles; README "Database roles". */
function moduleRoles(read: EnvReader, ownerUrl: URL | undefined): Pick<AppConfig, 'dbModuleRoles' | 'moduleDatabaseUrls'> {
  const dbModuleRoles = read.oneOf<ModuleRolesMode>('DB_MODULE_ROLES', 'auto', ['auto', 'on', 'off']);
  const moduleDatabaseUrls: Partial<Record<ModuleName, string>> = {};
  for (const name of MODULE_NAMES) {
    const variable = `${name.toUpperCase()}_DATABASE_URL`;
    const url = read.url(variable, ['postgres:', 'postgresql:']);
    if (!url) continue;
    if (!ownerUrl) throw new ConfigError(`${variable} needs DATABASE_URL: the owner that runs the migrations and grants ${name}'s role its schema`);
    if (dbModuleRoles === 'off') throw new ConfigError(`${variable} names a role for ${name}, but DB_MODULE_ROLES=off shares the owner's connection; unset one of them`);
    if (!url.username || url.username === ownerUrl.username) throw new ConfigError(`${variable} must connect as ${name}'s own role, not as DATABASE_URL's user`);
    moduleDatabaseUrls[name] = read.raw(variable)!;
  }
  return { dbModuleRoles, moduleDatabaseUrls };
}

function authSettings(read: EnvReader, production: boolean): AppConfig['auth'] {
  const secret = read.raw('AUTH_JWT_SECRET');
  const jwks = read.url('AUTH_JWKS_URL', ['https:', 'http:']);
  const issuer = read.raw('AUTH_JWT_ISSUER');
  const audience = read.raw('AUTH_JWT_AUDIENCE');
  const claims = { ...(issuer ? { issuer } : {}), ...(audience ? { audience } : {}) };
  if (secret && jwks) throw new ConfigError('AUTH_JWT_SECRET and AUTH_JWKS_URL are both set; choose one');
  if (jwks) return { kind: 'jwks', url: jwks, ...claims };
  if (secret) {
    if (secret.length < 32) throw new ConfigError('AUTH_JWT_SECRET must be at least 32 characters');
    return { kind: 'hs256', secret, ...claims };
  }
  if (production) throw new ConfigError('AUTH_JWT_SECRET or AUTH_JWKS_URL is required when NODE_ENV=production');
  return { kind: 'hs256-dev' };
}
