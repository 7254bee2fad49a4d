import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateVapidKeys } from '@shop/notifications';
import { signToken, type AuthSettings, type Logger } from '@shop/platform';
import type { VapidKeys } from '@shop/notifications/settings';
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

/**
 * Web Push needs a VAPID key pair. Configured keys win; in development a pair is made once and
 * kept under DATA_DIR (browsers bind a subscription to the public key, so it must not change
 * between restarts). In production without keys, push is off and says so.
 */
export async function resolveVapidKeys(config: AppConfig, logger: Logger): Promise<VapidKeys | undefined> {
  const configured = config.notifications.vapid;
  if (configured) return configured;
  if (config.production) {
    logger.warn('VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY are not set: push notifications are recorded as skipped');
    return undefined;
  }
  const file = path.join(config.dataDir, 'dev-vapid-keys.json');
  if (!existsSync(file)) {
    await mkdir(config.dataDir, { recursive: true });
    await writeFile(file, `${JSON.stringify(await generateVapidKeys())}\n`, { mode: 0o600 });
  }
  const keys = JSON.parse(await readFile(file, 'utf8')) as { publicKey: string; privateKey: string };
  return { publicKey: keys.publicKey, privateKey: keys.privateKey, subject: config.notifications.vapidSubject };
}
