import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@shop/platform/testing';
import { createLogger, signToken } from '@shop/platform';
import { startApp, type AppHooks, type RunningApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { call, type CallOptions, type CallResult } from './http-call.ts';

export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123456789';
export const ADMIN_ID = 'a0000000-0000-4000-8000-0000000000aa';

export interface TestApp {
  readonly app: RunningApp;
  readonly url: string;
  readonly database: TestDatabase;
  /** Sends a request to the running server; JSON in, parsed JSON out. */
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  /** A hosted module's interface, as other modules call it (e.g. orders' confirmOrder). */
  moduleApi<Api>(name: string): Api;
  adminToken: string;
  tokenFor(customerId: string, roles?: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** The whole app on a fresh database, listening on a free port, as `npm start` runs it. */
export async function startTestApp(env: Record<string, string> = {}, hooks: AppHooks = {}): Promise<TestApp> {
  const database = await createTestDatabase(inject('pgAdminUrl'));
  // Development files (tokens, VAPID keys) go to a directory of this test's own.
  const dataDir = await mkdtemp(path.join(tmpdir(), 'shop-app-test-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    AUTH_JWT_SECRET: TEST_SECRET,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    OUTBOX_SWEEP_INTERVAL_MS: '200',
    OUTBOX_RETRY_BASE_MS: '50',
    NOTIFICATION_SWEEP_INTERVAL_MS: '200',
    NOTIFICATION_RETRY_BASE_MS: '50',
    NODE_ENV: 'test',
    ...env,
  });
  const app = await startApp(config, createLogger(config.logLevel), hooks);
  const url = app.url.replace('localhost', '127.0.0.1');
  return {
    app,
    url,
    database,
    adminToken: await signToken(TEST_SECRET, { sub: ADMIN_ID, roles: ['admin'] }),
    tokenFor: (customerId, roles = []) => signToken(TEST_SECRET, { sub: customerId, roles }),
    call: (method, path, options) => call(url, method, path, options),
    moduleApi: <Api>(name: string) => {
      const module = app.modules.find((candidate) => candidate.name === name);
      if (!module) throw new Error(`no module ${name} in this process`);
      return module.api as Api;
    },
    async stop() {
      await app.stop();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
