import { ConfigError, type EnvReader } from '@shop/platform/bootstrap';

/**
 * The payments module's settings, read and validated by the module itself (the composition root
 * only hands it the environment). Which payment provider charges cards. The test provider is refused in production unless named. */
export interface PaymentsConfig {
  readonly provider: { kind: 'test' } | { kind: 'stripe'; secretKey: string; apiUrl: string };
  /** How often the reconciler looks for payments and refunds a crash left unfinished. */
  readonly reconcileIntervalMs: number;
  /** How long a payment may stay pending before the reconciler takes it over. */
  readonly reconcileAfterMs: number;
}

export function paymentsConfig(read: EnvReader, production: boolean): PaymentsConfig {
  const secretKey = read.raw('STRIPE_SECRET_KEY');
  const apiUrl = read.url('STRIPE_API_URL', ['https:', 'http:'])?.toString().replace(/\/$/, '') ?? 'https://api.stripe.com';
  const reconcileIntervalMs = read.integer('PAYMENTS_RECONCILE_INTERVAL_MS', 30_000, 100, 3_600_000);
  const reconcileAfterMs = read.integer('PAYMENTS_RECONCILE_AFTER_MS', 5_000, 100, 3_600_000);
  const defaultKind = secretKey ? 'stripe' : production ? undefined : 'test';
  const kind = read.raw('PAYMENT_PROVIDER') === undefined ? defaultKind : read.oneOf('PAYMENT_PROVIDER', 'test', ['test', 'stripe']);
  if (kind === undefined) throw new ConfigError('STRIPE_SECRET_KEY is required when NODE_ENV=production (or set PAYMENT_PROVIDER=test to take no real money)');
  if (kind === 'test') return { provider: { kind }, reconcileIntervalMs, reconcileAfterMs };
  if (!secretKey) throw new ConfigError('PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY');
  if (!/^(sk|rk)_(test|live)_\w+$/.test(secretKey)) throw new ConfigError('STRIPE_SECRET_KEY must be a Stripe secret key (sk_test_…, sk_live_… or a restricted rk_… key)');
  return { provider: { kind, secretKey, apiUrl }, reconcileIntervalMs, reconcileAfterMs };
}
