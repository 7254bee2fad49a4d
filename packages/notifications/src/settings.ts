import { ConfigError, type EnvReader } from '@shop/platform/bootstrap';

export interface VapidKeys {
  readonly publicKey: string;
  readonly privateKey: string;
  readonly subject: string;
}

/**
 * The notifications module's settings, read and validated by the module itself. Email over SMTP
 * when SMTP_URL is set; Web Push with VAPID keys (made and kept under DATA_DIR in development).
 */
export interface NotificationsConfig {
  readonly smtpUrl: string | undefined;
  readonly emailFrom: string;
  /** Configured keys; undefined means "development keys from DATA_DIR" or, in production, no push. */
  readonly vapid: VapidKeys | undefined;
  readonly vapidSubject: string;
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly sweepIntervalMs: number;
}

export function notificationsConfig(read: EnvReader): NotificationsConfig {
  const smtpUrl = read.url('SMTP_URL', ['smtp:', 'smtps:']) ? read.raw('SMTP_URL') : undefined;
  const emailFrom = read.string('EMAIL_FROM', 'Shop <shop@localhost>');
  if (!/^[^\r\n]*<?[^\s@<>]+@[^\s@<>]+>?$/.test(emailFrom)) throw new ConfigError(`EMAIL_FROM must be an address such as "Shop <shop@example.com>" (got "${emailFrom}")`);
  const vapidSubject = read.string('VAPID_SUBJECT', 'mailto:shop@localhost');
  if (!/^(mailto:|https:\/\/)/.test(vapidSubject)) throw new ConfigError(`VAPID_SUBJECT must be a mailto: or https: URL (got "${vapidSubject}")`);
  const publicKey = read.raw('VAPID_PUBLIC_KEY');
  const privateKey = read.raw('VAPID_PRIVATE_KEY');
  if (Boolean(publicKey) !== Boolean(privateKey)) throw new ConfigError('VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY must be set together');
  if (publicKey && !/^[A-Za-z0-9_-]{86,88}$/.test(publicKey)) throw new ConfigError('VAPID_PUBLIC_KEY must be a base64url P-256 public key (87 characters)');
  if (privateKey && !/^[A-Za-z0-9_-]{42,44}$/.test(privateKey)) throw new ConfigError('VAPID_PRIVATE_KEY must be a base64url P-256 private key (43 characters)');
  return {
    smtpUrl,
    emailFrom,
    vapid: publicKey && privateKey ? { publicKey, privateKey, subject: vapidSubject } : undefined,
    vapidSubject,
    maxAttempts: read.integer('NOTIFICATION_MAX_ATTEMPTS', 8, 1, 100),
    retryBaseMs: read.integer('NOTIFICATION_RETRY_BASE_MS', 1_000, 1, 3_600_000),
    sweepIntervalMs: read.integer('NOTIFICATION_SWEEP_INTERVAL_MS', 1_000, 10, 3_600_000),
  };
}
