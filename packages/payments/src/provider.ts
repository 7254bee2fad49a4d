/**
 * Where money actually moves. The module calls it only with an idempotency key that it stored
 * beforehand, so asking again after a crash or a timeout can never charge or refund twice.
 */
export interface PaymentProvider {
  /** Takes the money, or says why not. Throws `ProviderUnavailable` when it could not find out. */
  charge(request: ChargeRequest): Promise<ChargeResult>;
  /** Gives the money back. Throws `ProviderUnavailable` when it could not find out. */
  refund(request: RefundRequest): Promise<RefundResult>;
}

export interface ChargeRequest {
  readonly amount_cents: number;
  readonly currency: string;
  /** A Stripe payment method id, e.g. `pm_card_visa`. */
  readonly payment_method: string;
  /** The same key always names the same charge at the provider. */
  readonly idempotency_key: string;
  readonly order_id: string;
}

export type ChargeResult =
  | { readonly status: 'captured'; readonly ref: string }
  /** `ref` is the provider's record of the failed attempt, when it made one. */
  | { readonly status: 'declined'; readonly reason: string; readonly ref: string | null };

export interface RefundRequest {
  /** The `ref` of the captured charge. */
  readonly payment_ref: string;
  readonly amount_cents: number;
  readonly idempotency_key: string;
}

export interface RefundResult {
  readonly ref: string;
}

/**
 * The provider could not be reached or did not answer in time (connection failure, timeout,
 * 5xx, rate limit). The outcome is unknown: the payment stays `pending`, and asking again with
 * the same idempotency key settles it.
 */
export class ProviderUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProviderUnavailable';
  }
}

export type PaymentProviderConfig =
  | { kind: 'test' }
  | {
      kind: 'stripe';
      /** `sk_test_…`, `sk_live_…` or a restricted `rk_…` key. */
      secretKey: string;
      /** Default https://api.stripe.com; tests point it at the stand-in. */
      apiUrl?: string;
      /** Per request attempt; default 15 s. */
      timeoutMs?: number;
      /** Retries of one call by the SDK (same idempotency key, its own backoff); default 2. */
      maxNetworkRetries?: number;
    };
