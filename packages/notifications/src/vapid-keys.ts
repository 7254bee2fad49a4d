import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger, ModuleHost } from '@shop/platform';
import { generateVapidKeys } from './channels/push.ts';
import type { NotificationsConfig, VapidKeys } from './settings.ts';

/**
 * Web Push needs a VAPID key pair. Configured keys win; in development a pair is made once and
 * kept under DATA_DIR (browsers bind a subscription to the public key, so it must not change
 * between restarts). In production without keys, push is off and says so.
 */
export async function resolveVapidKeys(settings: NotificationsConfig, host: ModuleHost, logger: Logger): Promise<VapidKeys | undefined> {
  if (settings.vapid) return settings.vapid;
  if (host.buildOnly) return undefined;
  if (host.production) {
    logger.warn('VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY are not set: push notifications are recorded as skipped');
    return undefined;
  }
  const file = path.join(host.dataDir, 'dev-vapid-keys.json');
  if (!existsSync(file)) {
    await mkdir(host.dataDir, { recursive: true });
    await writeFile(file, `${JSON.stringify(await generateVapidKeys())}\n`, { mode: 0o600 });
  }
  const keys = JSON.parse(await readFile(file, 'utf8')) as { publicKey: string; privateKey: string };
  return { publicKey: keys.publicKey, privateKey: keys.privateKey, subject: settings.vapidSubject };
}
