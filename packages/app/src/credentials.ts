import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { signToken, type AuthSettings } from '@shop/platform';
import type { AppConfig } from './config.ts';

/** Fixed identities for development, so the README's walkthrough can name them. */
export const DEV_ADMIN_ID = 'a0000000-0000-4000-8000-000000000001';
export const DEV_CUSTOMER_ID = 'c0000000-0000-4000-8000-000000000001';

/** Outside production with no secret configured, a random one is made once and kept under DATA_DIR. */
export async function resolveAuth(config: AppConfig): Promise<AuthSettings> {
  if (config.auth.kind !== 'hs256-dev') return config.auth;
  const file = path.join(config.dataDir, 'dev-jwt-secret');
  if (!existsSync(file)) {
    await mkdir(config.dataDir, { recursive: true });
    await writeFile(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  }
  return { kind: 'hs256', secret: (await readFile(file, 'utf8')).trim() };
}

export interface DevTokens {
  admin: string;
  customer: string;
  file: string;
}

/** Ready-made tokens for a newcomer, also written to DATA_DIR/dev-tokens.env for `source`. */
export async function writeDevTokens(config: AppConfig, auth: AuthSettings): Promise<DevTokens | undefined> {
  if (config.production || auth.kind !== 'hs256') return undefined;
  const admin = await signToken(auth.secret, { sub: DEV_ADMIN_ID, roles: ['admin'] });
  const customer = await signToken(auth.secret, { sub: DEV_CUSTOMER_ID });
  const file = path.join(config.dataDir, 'dev-tokens.env');
  await mkdir(config.dataDir, { recursive: true });
  await writeFile(file, `ADMIN_TOKEN=${admin}\nTOKEN=${customer}\nCUSTOMER_ID=${DEV_CUSTOMER_ID}\n`, { mode: 0o600 });
  return { admin, customer, file };
}
