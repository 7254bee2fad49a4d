/**
 * `npm run extraction-report`: which modules to extract, by the lesson's five criteria, each
 * score beside its evidence (packages/app/src/extraction/, docs/extraction.md). The same JSON
 * as `GET /api/admin/extraction`.
 *
 *   npm run extraction-report [-- --json] [-- --window-hours 168] [-- --git-days 90] [-- --root DIR]
 *
 * `--root`: the repository whose git history, CODEOWNERS and extraction.config.json count
 * (default: the one this script is in).
 *
 * Run-time evidence comes from the database the app writes to: DATABASE_URL, or else the
 * embedded PostgreSQL under DATA_DIR (default ./.data): the running app's server when it is up,
 * otherwise started for the report and stopped after it. No database yet: the report says
 * there is no run-time evidence, and scores the rest.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Database, createLogger, startEmbeddedPostgres, type EmbeddedPostgres } from '@shop/platform';
import { scoreModules, type ExtractionReport } from '../packages/app/src/extraction/criteria.ts';
import { DEFAULT_GIT_DAYS, DEFAULT_WINDOW_HOURS, gatherEvidence } from '../packages/app/src/extraction/gather.ts';
import { renderReport } from '../packages/app/src/extraction/render.ts';
import { MODULE_NAMES } from '../packages/app/src/topology-config.ts';

export interface ReportOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly windowHours: number;
  readonly gitDays: number;
  readonly root?: string;
}

export async function extractionReport(options: ReportOptions): Promise<ExtractionReport> {
  const connection = await connect(options.env);
  try {
    const evidence = await gatherEvidence({
      pool: connection?.database.pool,
      modules: MODULE_NAMES,
      windowHours: options.windowHours,
      gitDays: options.gitDays,
      ...(options.root ? { root: options.root } : {}),
    });
    return scoreModules(evidence);
  } finally {
    await connection?.close();
  }
}

/** The app's database, found as the app finds it; undefined when there is none yet. */
async function connect(env: NodeJS.ProcessEnv): Promise<{ database: Database; close(): Promise<void> } | undefined> {
  const logger = createLogger('warn');
  if (env.DATABASE_URL) {
    const database = new Database({ url: env.DATABASE_URL, connectionsPerModule: 2, applicationName: 'shop:extraction-report' });
    return { database, close: () => closeDatabase(database) };
  }
  const dataDir = path.resolve(env.DATA_DIR ?? './.data');
  const pgdata = path.join(dataDir, 'postgres');
  if (!existsSync(path.join(pgdata, 'PG_VERSION'))) {
    process.stderr.write(`no database under ${pgdata} (and no DATABASE_URL): the report has no run-time evidence\n`);
    return undefined;
  }
  const running = await runningServer(dataDir, pgdata);
  let embedded: EmbeddedPostgres | undefined;
  const url = running ?? (embedded = await startEmbeddedPostgres(dataDir, logger)).url;
  const database = new Database({ url, connectionsPerModule: 2, applicationName: 'shop:extraction-report' });
  return {
    database,
    close: async () => {
      await closeDatabase(database);
      await embedded?.stop();
    },
  };
}

/**
 * `Database.close` ends the owner's pool through Kysely, which only knows the pool once it ran a
 * query; the report uses the pool directly, so it ends it itself (else idle clients hold the
 * process for 10 s).
 */
async function closeDatabase(database: Database): Promise<void> {
  await database.close();
  if (!database.pool.ended) await database.pool.end();
}

/** The URL of the embedded server the app is running now (its postmaster.pid names the port), if any. */
async function runningServer(dataDir: string, pgdata: string): Promise<string | undefined> {
  const pidFile = await readFile(path.join(pgdata, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const [pid, , , port] = pidFile?.split('\n') ?? [];
  if (!pid || !port || !isAlive(Number(pid))) return undefined;
  const password = (await readFile(path.join(dataDir, 'postgres.password'), 'utf8')).trim();
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${Number(port)}/shop`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      'window-hours': { type: 'string', default: String(DEFAULT_WINDOW_HOURS) },
      'git-days': { type: 'string', default: String(DEFAULT_GIT_DAYS) },
      root: { type: 'string' },
    },
  });
  const positive = (name: string, value: string) => {
    const number = Number(value);
    if (!Number.isInteger(number) || number < 1) {
      process.stderr.write(`--${name} must be a positive whole number, not ${value}\n`);
      process.exit(2);
    }
    return number;
  };
  const report = await extractionReport({
    env: process.env,
    windowHours: positive('window-hours', values['window-hours']),
    gitDays: positive('git-days', values['git-days']),
    ...(values.root ? { root: path.resolve(values.root) } : {}),
  });
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
}
