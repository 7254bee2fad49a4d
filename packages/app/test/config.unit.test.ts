import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@shop/platform';
import { MODULE_NAMES, loadConfig } from '../src/config.ts';

/** Every module but `hosted`, placed at `url` (`<MODULE>_URL`): whatever modules the system has. */
const elsewhere = (hosted: string, url = 'http://elsewhere:8080') =>
  Object.fromEntries(MODULE_NAMES.filter((name) => name !== hosted).map((name) => [`${name.toUpperCase()}_URL`, url]));

const SECRET = 'x'.repeat(32);
/** A VAPID key pair's shape (base64url P-256 keys). */
const PUBLIC_KEY = 'B' + 'a'.repeat(86);
const PRIVATE_KEY = 'k'.repeat(43);
/** A production database (production refuses the embedded one unless EMBEDDED_POSTGRES=on). */
const DATABASE_URL = 'postgres://shop:pw@db:5432/shop';

/** Runs loadConfig on `env`, expecting a ConfigError, and returns its message. */
function configErrorOf(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  it('runs with an empty environment (development)', () => {
    // An explicit empty env, so the test never depends on the shell it runs in.
    expect(loadConfig({})).toEqual({
      production: false,
      port: 8080,
      host: '0.0.0.0',
      databaseUrl: undefined,
      dataDir: path.resolve('./.data'),
      auth: { kind: 'hs256-dev' },
      logLevel: 'info',
      accessLog: false,
      modules: MODULE_NAMES,
      topology: {
        hosted: MODULE_NAMES,
        natsUrl: undefined,
        natsStream: 'SHOP_EVENTS',
        natsSubjectPrefix: 'shop.events',
        serviceSecret: undefined,
        modules: Object.fromEntries(
          MODULE_NAMES.map((name) => [name, { name, hosted: true, url: undefined, shadowUrl: undefined, remotePercent: 0 }]),
        ),
      },
      shutdownTimeoutMs: 10_000,
      shutdownDrainMs: 0,
      dbPoolSize: 10,
      dbModuleRoles: 'auto',
      moduleDatabaseUrls: {},
      outbox: { maxAttempts: 10, sweepIntervalMs: 1_000, retryBaseMs: 500 },
      retention: { outboxRetentionMs: 7 * 86_400_000, inboxRetentionMs: 14 * 86_400_000, intervalMs: 15 * 60_000 },
      settings: {
        payments: { provider: { kind: 'test' }, reconcileIntervalMs: 30_000, reconcileAfterMs: 5_000 },
        notifications: {
          smtpUrl: undefined,
          emailFrom: 'Shop <shop@localhost>',
          vapid: undefined,
          vapidSubject: 'mailto:shop@localhost',
          maxAttempts: 8,
          retryBaseMs: 1_000,
          sweepIntervalMs: 1_000,
        },
      },
    });
  });

  it('treats blank values as unset', () => {
    expect(loadConfig({ PORT: '  ', LOG_LEVEL: '' }).port).toBe(8080);
  });

  it('reads what is set', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      PORT: '3000',
      LOG_LEVEL: 'warn',
      DATABASE_URL: 'postgres://shop:pw@db:5432/shop',
      AUTH_JWT_SECRET: SECRET,
      AUTH_JWT_ISSUER: 'iss',
      MODULES: ` ${MODULE_NAMES.join(' , ')}`,
      STRIPE_SECRET_KEY: 'sk_live_abc123',
      SMTP_URL: 'smtp://mail.internal:587',
      VAPID_PUBLIC_KEY: PUBLIC_KEY,
      VAPID_PRIVATE_KEY: PRIVATE_KEY,
    });
    expect(config).toMatchObject({
      production: true,
      port: 3000,
      logLevel: 'warn',
      databaseUrl: 'postgres://shop:pw@db:5432/shop',
      auth: { kind: 'hs256', secret: SECRET, issuer: 'iss' },
      modules: MODULE_NAMES,
      settings: {
        payments: { provider: { kind: 'stripe', secretKey: 'sk_live_abc123', apiUrl: 'https://api.stripe.com' } },
        notifications: { smtpUrl: 'smtp://mail.internal:587', vapid: { publicKey: PUBLIC_KEY, privateKey: PRIVATE_KEY, subject: 'mailto:shop@localhost' } },
      },
    });
  });

  it('drains for 5 s before a production shutdown (at most half a shorter timeout), not at all elsewhere, unless told', () => {
    const production = { NODE_ENV: 'production', DATABASE_URL, AUTH_JWT_SECRET: SECRET, PAYMENT_PROVIDER: 'test' };
    expect(loadConfig(production).shutdownDrainMs).toBe(5_000);
    expect(loadConfig({ ...production, SHUTDOWN_TIMEOUT_MS: '4000' }).shutdownDrainMs).toBe(2_000);
    expect(loadConfig({ ...production, SHUTDOWN_DRAIN_MS: '0' }).shutdownDrainMs).toBe(0);
    expect(loadConfig({ SHUTDOWN_DRAIN_MS: '2500' }).shutdownDrainMs).toBe(2_500);
  });

  it('uses the test payment provider in production only when told to', () => {
    expect(loadConfig({ NODE_ENV: 'production', DATABASE_URL, AUTH_JWT_SECRET: SECRET, PAYMENT_PROVIDER: 'test' }).settings.payments.provider).toEqual({ kind: 'test' });
  });

  it('points the Stripe provider at another host (a local stand-in)', () => {
    const config = loadConfig({ STRIPE_SECRET_KEY: 'sk_test_1', STRIPE_API_URL: 'http://127.0.0.1:12111/' });
    expect(config.settings.payments.provider).toEqual({ kind: 'stripe', secretKey: 'sk_test_1', apiUrl: 'http://127.0.0.1:12111' });
  });

  it('accepts a JWKS URL instead of a secret, even in production', () => {
    const config = loadConfig({ NODE_ENV: 'production', DATABASE_URL, AUTH_JWKS_URL: 'https://id.example/jwks.json', STRIPE_SECRET_KEY: 'sk_live_1' });
    expect(config.auth).toEqual({ kind: 'jwks', url: new URL('https://id.example/jwks.json') });
  });

  it('runs the embedded PostgreSQL in production only when EMBEDDED_POSTGRES=on says so', () => {
    const production = { NODE_ENV: 'production', AUTH_JWT_SECRET: SECRET, PAYMENT_PROVIDER: 'test' };
    expect(loadConfig({ ...production, EMBEDDED_POSTGRES: 'on' }).databaseUrl).toBeUndefined();
    expect(loadConfig({ ...production, DATABASE_URL, EMBEDDED_POSTGRES: 'off' }).databaseUrl).toBe(DATABASE_URL);
    expect(loadConfig({ EMBEDDED_POSTGRES: 'on' }).databaseUrl).toBeUndefined();
    expect(configErrorOf(production)).toBe(
      'DATABASE_URL is required when NODE_ENV=production (the embedded PostgreSQL would keep the data under DATA_DIR; set EMBEDDED_POSTGRES=on if that is meant)',
    );
  });

  it('serves /metrics and the docs on ADMIN_PORT when set', () => {
    expect(loadConfig({}).adminPort).toBeUndefined();
    expect(loadConfig({ ADMIN_PORT: '9090' }).adminPort).toBe(9_090);
    expect(loadConfig({ PORT: '0', ADMIN_PORT: '9090' }).adminPort).toBe(9_090);
  });
});

describe('loadConfig refuses a bad environment, naming the variable', () => {
  it.each([
    ['PORT', { PORT: 'eighty' }],
    ['PORT', { PORT: '65536' }],
    ['PORT', { PORT: '80.5' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'verbose' }],
    ['ACCESS_LOG', { ACCESS_LOG: 'yes' }],
    ['DATABASE_URL', { DATABASE_URL: 'not a url' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://db/shop' }],
    ['AUTH_JWT_SECRET', { AUTH_JWT_SECRET: 'x'.repeat(31) }],
    ['AUTH_JWKS_URL', { AUTH_JWT_SECRET: SECRET, AUTH_JWKS_URL: 'https://id.example/jwks.json' }],
    ['AUTH_JWT_SECRET', { NODE_ENV: 'production' }],
    ['MODULES', { MODULES: 'orders,inventory,payments,shipping' }],
    ['MODULES', { MODULES: 'orders' }],
    ['NATS_URL', { MODULES: 'orders', ...elsewhere('orders'), SERVICE_SECRET: SECRET }],
    ['SERVICE_SECRET', { MODULES: 'orders', ...elsewhere('orders'), NATS_URL: 'nats://q:4222' }],
    ['SERVICE_SECRET', { ORDERS_SHADOW_URL: 'http://shadow:8080' }],
    ['SERVICE_SECRET', { SERVICE_SECRET: 'short' }],
    ['ORDERS_URL', { ORDERS_URL: 'ftp://orders' }],
    ['ORDERS_REMOTE_PERCENT', { ORDERS_REMOTE_PERCENT: '101' }],
    ['ORDERS_REMOTE_PERCENT', { ORDERS_REMOTE_PERCENT: '10' }],
    ['ORDERS_SHADOW_URL', { MODULES: 'inventory,payments,notifications', ORDERS_URL: 'http://o', ORDERS_SHADOW_URL: 'http://s', NATS_URL: 'nats://q:4222', SERVICE_SECRET: SECRET }],
    ['ORDERS_REMOTE_PERCENT', { MODULES: 'inventory,payments,notifications', ORDERS_URL: 'http://o', ORDERS_REMOTE_PERCENT: '5', NATS_URL: 'nats://q:4222', SERVICE_SECRET: SECRET }],
    ['NATS_URL', { NATS_URL: 'http://nats:4222' }],
    ['NATS_STREAM', { NATS_STREAM: 'a.b' }],
    ['NATS_SUBJECT_PREFIX', { NATS_SUBJECT_PREFIX: 'shop.>' }],
    ['DB_POOL_SIZE', { DB_POOL_SIZE: '0' }],
    ['OUTBOX_RETENTION', { OUTBOX_RETENTION: 'a week' }],
    ['OUTBOX_RETENTION', { OUTBOX_RETENTION: '30m' }],
    ['OUTBOX_RETENTION', { OUTBOX_RETENTION: '7.5d' }],
    ['INBOX_RETENTION', { INBOX_RETENTION: '-1' }],
    ['INBOX_RETENTION', { OUTBOX_RETENTION: '7d', INBOX_RETENTION: '7d' }],
    ['INBOX_RETENTION', { OUTBOX_RETENTION: '1d', INBOX_RETENTION: '3d', MODULES: 'orders', ...elsewhere('orders'), NATS_URL: 'nats://q:4222', SERVICE_SECRET: SECRET }],
    ['RETENTION_INTERVAL', { RETENTION_INTERVAL: '0' }],
    ['SHUTDOWN_DRAIN_MS', { SHUTDOWN_DRAIN_MS: '-1' }],
    ['SHUTDOWN_DRAIN_MS', { SHUTDOWN_DRAIN_MS: '5s' }],
    ['SHUTDOWN_DRAIN_MS', { SHUTDOWN_DRAIN_MS: '10000' }],
    ['SHUTDOWN_DRAIN_MS', { SHUTDOWN_DRAIN_MS: '3000', SHUTDOWN_TIMEOUT_MS: '2000' }],
    ['ORDERS_URL', { ORDERS_URL: 'http://o1:8080,ftp://o2' }],
    ['ORDERS_URL', { ORDERS_URL: 'http://o1:8080,,http://o2:8080' }],
    ['ORDERS_SHADOW_URL', { ORDERS_SHADOW_URL: 'http://s1:8080,not a url', SERVICE_SECRET: SECRET }],
    ['DB_MODULE_ROLES', { DB_MODULE_ROLES: 'yes' }],
    ['ORDERS_DATABASE_URL', { ORDERS_DATABASE_URL: 'postgres://shop_orders:pw@db/shop' }],
    ['ORDERS_DATABASE_URL', { DATABASE_URL: 'postgres://owner@db/shop', ORDERS_DATABASE_URL: 'http://db/shop' }],
    ['ORDERS_DATABASE_URL', { DATABASE_URL: 'postgres://owner@db/shop', ORDERS_DATABASE_URL: 'postgres://owner@db/shop' }],
    ['ORDERS_DATABASE_URL', { DATABASE_URL: 'postgres://owner@db/shop', ORDERS_DATABASE_URL: 'postgres://shop_orders@db/shop', DB_MODULE_ROLES: 'off' }],
    ['STRIPE_SECRET_KEY', { NODE_ENV: 'production', AUTH_JWT_SECRET: SECRET }],
    ['STRIPE_SECRET_KEY', { PAYMENT_PROVIDER: 'stripe' }],
    ['STRIPE_SECRET_KEY', { STRIPE_SECRET_KEY: 'pk_test_publishable' }],
    ['PAYMENT_PROVIDER', { PAYMENT_PROVIDER: 'paypal' }],
    ['STRIPE_API_URL', { STRIPE_SECRET_KEY: 'sk_test_1', STRIPE_API_URL: 'ftp://stripe' }],
    ['SMTP_URL', { SMTP_URL: 'http://mail' }],
    ['EMAIL_FROM', { EMAIL_FROM: 'nobody' }],
    ['VAPID_PRIVATE_KEY', { VAPID_PUBLIC_KEY: PUBLIC_KEY }],
    ['VAPID_PUBLIC_KEY', { VAPID_PUBLIC_KEY: 'short', VAPID_PRIVATE_KEY: PRIVATE_KEY }],
    ['VAPID_SUBJECT', { VAPID_SUBJECT: 'http://shop' }],
    ['NOTIFICATION_MAX_ATTEMPTS', { NOTIFICATION_MAX_ATTEMPTS: '0' }],
    ['DATABASE_URL', { NODE_ENV: 'production', AUTH_JWT_SECRET: SECRET, PAYMENT_PROVIDER: 'test' }],
    ['DATABASE_URL', { EMBEDDED_POSTGRES: 'off' }],
    ['EMBEDDED_POSTGRES', { EMBEDDED_POSTGRES: 'yes' }],
    ['EMBEDDED_POSTGRES', { EMBEDDED_POSTGRES: 'on', DATABASE_URL }],
    ['ADMIN_PORT', { ADMIN_PORT: '0' }],
    ['ADMIN_PORT', { ADMIN_PORT: '65536' }],
    ['ADMIN_PORT', { ADMIN_PORT: 'admin' }],
    ['ADMIN_PORT', { ADMIN_PORT: '8080' }],
    ['ADMIN_PORT', { PORT: '3000', ADMIN_PORT: '3000' }],
  ] as const)('%s in %j', (variable, env) => {
    expect(configErrorOf(env)).toContain(variable);
  });

  it('names the unknown module', () => {
    expect(configErrorOf({ MODULES: 'orders,inventory,payments,shipping' })).toContain('"shipping"');
  });

  it('reads pre-created module roles (<MODULE>_DATABASE_URL) and DB_MODULE_ROLES', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://owner:pw@db/shop', INVENTORY_DATABASE_URL: 'postgres://shop_inventory:pw@db/shop', DB_MODULE_ROLES: 'on' });
    expect(config.dbModuleRoles).toBe('on');
    expect(config.moduleDatabaseUrls).toEqual({ inventory: 'postgres://shop_inventory:pw@db/shop' });
  });

  it('reads a split topology: orders alone, the others elsewhere, events over NATS', () => {
    const { topology } = loadConfig({
      MODULES: 'orders',
      ...elsewhere('orders', 'http://main:8080/'),
      NATS_URL: 'nats://127.0.0.1:4222',
      SERVICE_SECRET: SECRET,
    });
    expect(topology.hosted).toEqual(['orders']);
    expect(topology.modules.inventory).toEqual({ name: 'inventory', hosted: false, url: 'http://main:8080', shadowUrl: undefined, remotePercent: 0 });
    expect(topology.natsUrl).toBe('nats://127.0.0.1:4222');
  });

  it('reads a dark launch and a traffic switch of a hosted module', () => {
    const { topology } = loadConfig({ ORDERS_URL: 'http://orders-2:8080', ORDERS_REMOTE_PERCENT: '5', ORDERS_SHADOW_URL: 'http://orders-3:8080', NATS_URL: 'nats://n:4222', SERVICE_SECRET: SECRET });
    expect(topology.modules.orders).toEqual({ name: 'orders', hosted: true, url: 'http://orders-2:8080', shadowUrl: 'http://orders-3:8080', remotePercent: 5 });
  });

  it('reads several addresses for a module, each checked, as one comma-separated list', () => {
    const { topology } = loadConfig({
      MODULES: MODULE_NAMES.filter((name) => name !== 'orders').join(','),
      ORDERS_URL: 'http://orders-1:8080/, http://orders-2:8080',
      NATS_URL: 'nats://n:4222',
      SERVICE_SECRET: SECRET,
    });
    expect(topology.modules.orders.url).toBe('http://orders-1:8080,http://orders-2:8080');
  });

  it('names the module hosted nowhere', () => {
    expect(configErrorOf({ MODULES: 'orders' })).toContain(`leaves ${MODULE_NAMES.filter((name) => name !== 'orders').join(', ')} hosted nowhere`);
  });
});

describe('retention settings', () => {
  const DAY = 86_400_000;
  it('reads durations in minutes, hours, days or weeks, a bare number being hours', () => {
    expect(loadConfig({ OUTBOX_RETENTION: '36', INBOX_RETENTION: '2w', RETENTION_INTERVAL: '5m' }).retention).toEqual({
      outboxRetentionMs: 36 * 3_600_000,
      inboxRetentionMs: 14 * DAY,
      intervalMs: 5 * 60_000,
    });
  });

  it('keeps the inbox a day longer than a long outbox retention when INBOX_RETENTION is unset', () => {
    expect(loadConfig({ OUTBOX_RETENTION: '30d' }).retention.inboxRetentionMs).toBe(31 * DAY);
  });

  it('refuses an inbox retention that a redelivery could outlast, and says why in one line', () => {
    expect(configErrorOf({ OUTBOX_RETENTION: '7d', INBOX_RETENTION: '7d' })).toBe(
      'INBOX_RETENTION must be at least 8d, OUTBOX_RETENTION (7d) plus a day: a delivered outbox row can be replayed while it is kept, and the inbox row is what makes that second delivery harmless (got "7d")',
    );
    // Without NATS a short inbox retention is fine once it outlives the outbox's; with NATS the stream's 7 days count too.
    expect(loadConfig({ OUTBOX_RETENTION: '1d', INBOX_RETENTION: '2d' }).retention.inboxRetentionMs).toBe(2 * DAY);
    expect(configErrorOf({ OUTBOX_RETENTION: '1d', INBOX_RETENTION: '2d', NATS_URL: 'nats://q:4222' })).toMatch(/^INBOX_RETENTION must be at least 8d, the NATS stream's 7d plus a day/);
  });
});

describe('a bad DATABASE_URL never echoes its password', () => {
  it.each([
    ['wrong protocol', 'mysql://shop:hunter2secret@db:3306/shop'],
    ['unparseable port', 'postgres://shop:hunter2secret@db:notaport/shop'],
    ['password with a raw @', 'mysql://shop:hunter2@secret@db:3306/shop'],
  ])('%s', (_case, url) => {
    const message = configErrorOf({ DATABASE_URL: url });
    expect(message).toContain('DATABASE_URL');
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('secret');
    // Still useful: the user and host are shown.
    expect(message).toContain('shop:***@');
  });
});
