import { createPaymentProvider, type PaymentProvider } from '../../src/index.ts';
import { TestPaymentProvider } from '../../src/test-provider.ts';
import { startStripeStandIn, type StripeStandIn } from '../stripe-stand-in.ts';

export type ProviderKind = 'test' | 'stripe';

/** A provider to test with, and a way to count, at the provider itself, what it did. */
export interface ProviderFixture {
  readonly kind: ProviderKind;
  readonly provider: PaymentProvider;
  /** Set for the Stripe provider: the stand-in it talks to. */
  readonly standIn: StripeStandIn | undefined;
  /** Successful charges for one idempotency key. */
  chargesFor(key: string): number;
  /** Successful charges for one order, whatever their keys. */
  chargesForOrder(orderId: string): number;
  /** Refunds of one captured charge (its ref). */
  refundsOf(chargeRef: string): number;
  close(): Promise<void>;
}

export async function providerFixture(kind: ProviderKind): Promise<ProviderFixture> {
  if (kind === 'test') {
    const provider = new TestPaymentProvider();
    const refundKeys = new Map<string, string[]>();
    // The test provider keys refunds by idempotency key; remember which charge each refunded.
    const counted: PaymentProvider = {
      charge: (request) => provider.charge(request),
      refund: async (request) => {
        const result = await provider.refund(request);
        const keys = refundKeys.get(request.payment_ref) ?? [];
        if (!keys.includes(request.idempotency_key)) keys.push(request.idempotency_key);
        refundKeys.set(request.payment_ref, keys);
        return result;
      },
    };
    return {
      kind,
      provider: counted,
      standIn: undefined,
      chargesFor: (key) => provider.chargesFor(key),
      chargesForOrder: (orderId) => provider.chargesForOrder(orderId),
      refundsOf: (ref) => (refundKeys.get(ref) ?? []).reduce((sum, key) => sum + provider.refundsFor(key), 0),
      close: async () => undefined,
    };
  }
  const standIn = await startStripeStandIn();
  return {
    kind,
    // Short retry delays keep outage tests fast; the rule itself is Stripe's.
    provider: createPaymentProvider({ kind: 'stripe', secretKey: 'sk_test_standin', apiUrl: standIn.url, timeoutMs: 5_000 }),
    standIn,
    chargesFor: (key) => standIn.chargesFor(key).length,
    chargesForOrder: (orderId) => standIn.chargesFor().filter((intent) => intent.metadata.order_id === orderId).length,
    refundsOf: (ref) => standIn.refundsFor(ref).length,
    close: () => standIn.close(),
  };
}
