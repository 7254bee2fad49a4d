import { ConfigError, createLogger, startEmbeddedPostgres } from '@shop/platform/bootstrap';
import type { RunningApp } from './app.ts';
import { loadConfig } from './config.ts';

/** `npm start`: one process, every module, the embedded PostgreSQL unless DATABASE_URL is set. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);

  // Signals are ours from the first moment: a SIGTERM that lands while we start (or in the
  // instant between "serving" and a late registration) must drain, not kill us mid-write.
  let app: RunningApp | undefined;
  let stopRequested: string | undefined;
  const shutdown = (running: RunningApp, signal: string) => {
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error({ timeout_ms: config.shutdownTimeoutMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    running.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopRequested) return;
    stopRequested = signal;
    if (app) shutdown(app, signal);
    else logger.info({ signal }, 'stop requested while starting; stopping once started');
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    // The embedded PostgreSQL boots in its own processes while this one loads the app: the two
    // overlap instead of adding up (about half a second of every start).
    const embeddedPostgres = config.databaseUrl ? undefined : startEmbeddedPostgres(config.dataDir, logger);
    embeddedPostgres?.catch(() => undefined); // awaited, and reported, by startApp
    const { startApp } = await import('./app.ts');
    app = await startApp(config, logger, embeddedPostgres ? { embeddedPostgres } : {});
  } catch (error) {
    logger.fatal({ err: error }, 'could not start');
    process.stderr.write(`could not start: ${(error as Error).message}\n`);
    process.exit(1);
  }
  if (stopRequested) {
    shutdown(app, stopRequested);
    return;
  }
  logger.info({ url: app.url, docs: `${app.adminUrl}/docs`, ...(app.adminUrl !== app.url ? { admin_url: app.adminUrl } : {}) }, 'shop is serving');
  if (app.devTokens) {
    process.stdout.write(
      [
        '',
        `  Shop is serving on ${app.url}   (API docs: ${app.adminUrl}/docs)`,
        '',
        `  Development tokens (also in ${app.devTokens.file}, ready for \`source\`):`,
        `    ADMIN_TOKEN=${app.devTokens.admin}`,
        `    TOKEN=${app.devTokens.customer}`,
        '',
      ].join('\n') + '\n',
    );
  }
}

void main();
