import { ConfigError, createLogger } from '@shop/platform/bootstrap';
import { Database } from '@shop/platform';
import { loadConfig } from './config.ts';
import { MODULES } from './modules.ts';

/**
 * `node dist/migrate.js` (`node --import tsx packages/app/src/migrate-main.ts` from the sources):
 * migrates the modules in MODULES (all by default) and their roles, exactly as a process does at
 * start (`Database.migrate`: as the DATABASE_URL owner, one advisory lock per schema), then exits:
 * 0 when every migration is applied, 1 otherwise.
 *
 * What it is for: the Kubernetes migration Job (deploy/base/shared/migrate-job.yaml) runs it once
 * per release, before the new pods are ready, so a failing migration stops the rollout in one
 * place with one log. Processes still migrate at start: that is idempotent and locked, so this is
 * belt and braces, never a step a process depends on.
 *
 * It reads the same configuration as the server (loadConfig), so the Job takes the same ConfigMap
 * and Secret as the Deployments and cannot disagree with them about the database or the roles.
 */
async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`configuration error: ${error.message}\n`);
    return 1;
  }
  const logger = createLogger(config.logLevel);
  if (!config.databaseUrl) {
    // The embedded PostgreSQL is migrated by `npm start` itself; a migration run is for a real server.
    logger.fatal('DATABASE_URL is required: the migrations run against the deployment\'s PostgreSQL');
    return 1;
  }
  const database = new Database({
    url: config.databaseUrl,
    connectionsPerModule: 1,
    moduleRoles: config.dbModuleRoles,
    moduleUrls: config.moduleDatabaseUrls,
    applicationName: 'shop-migrate',
  });
  const started = Date.now();
  try {
    // With roles on, this also creates or refreshes each module's role and checks it can log in.
    await database.migrate(config.modules.map((name) => MODULES[name].migrations), logger);
    logger.info({ modules: config.modules, duration_ms: Date.now() - started }, 'migrations applied');
    return 0;
  } catch (error) {
    logger.fatal({ err: error }, 'migrations failed');
    return 1;
  } finally {
    await database.close().catch(() => undefined);
  }
}

process.exitCode = await main();
