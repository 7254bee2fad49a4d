import type { PaymentProvider, PaymentProviderConfig } from './provider.ts';
import { StripePaymentProvider } from './stripe-provider.ts';
import { TestPaymentProvider } from './test-provider.ts';

/** The provider the configuration names: the deterministic test provider, or Stripe. */
export function createPaymentProvider(config: PaymentProviderConfig): PaymentProvider {
  return config.kind === 'stripe' ? new StripePaymentProvider(config) : new TestPaymentProvider();
}
