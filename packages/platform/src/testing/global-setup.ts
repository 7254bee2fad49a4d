import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../db/embedded.ts';
import { createLogger } from '../logger.ts';

declare module 'vitest' {
  interface ProvidedContext {
    /** A PostgreSQL URL with the right to create databases; each test file makes its own. */
    pgAdminUrl: string;
  }
}

/**
 * One real PostgreSQL for the whole run: the server in DATABASE_URL when set (CI), otherwise an
 * embedded one in a fresh temporary directory (a fresh machine with only Node and npm).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.DATABASE_URL) {
    project.provide('pgAdminUrl', process.env.DATABASE_URL);
    return async () => {};
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), 'shop-test-pg-'));
  const embedded = await startEmbeddedPostgres(dataDir, createLogger('warn'));
  project.provide('pgAdminUrl', embedded.url);
  return async () => {
    await embedded.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
