import type Stripe from 'stripe';
import type { ChargeRequest, ChargeResult, PaymentProvider, PaymentProviderConfig, RefundRequest, RefundResult } from './provider.ts';
import { ProviderUnavailable } from './provider.ts';
import { declineReasonOf } from './test-cards.ts';

type StripeConfig = Extract<PaymentProviderConfig, { kind: 'stripe' }>;

/**
 * Charges through Stripe with the official SDK: one confirmed PaymentIntent per charge,
 * created with our idempotency key, so asking again (a retry, the reconciler) replays Stripe's
 * first answer instead of charging again. The SDK retries connection failures, 409 and 5xx
 * itself, with the same key.
 */
export class StripePaymentProvider implements PaymentProvider {
  readonly #config: StripeConfig;
  #stripe: Promise<{ client: Stripe; errors: typeof Stripe.errors }> | undefined;

  constructor(config: StripeConfig) {
    this.#config = config;
  }

  /** The SDK loads on the first call: a process that never charges does not pay ~150 ms of start for it. */
  #client(): Promise<{ client: Stripe; errors: typeof Stripe.errors }> {
    this.#stripe ??= import('stripe').then(({ default: StripeSdk }) => {
      const api = new URL(this.#config.apiUrl ?? 'https://api.stripe.com');
      const protocol = api.protocol === 'http:' ? 'http' : 'https';
      const client = new StripeSdk(this.#config.secretKey, {
        host: api.hostname,
        port: api.port || (protocol === 'http' ? 80 : 443),
        protocol,
        timeout: this.#config.timeoutMs ?? 15_000,
        maxNetworkRetries: this.#config.maxNetworkRetries ?? 2,
        telemetry: false,
      });
      return { client, errors: StripeSdk.errors };
    });
    return this.#stripe;
  }

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    const { client, errors } = await this.#client();
    try {
      const intent = await client.paymentIntents.create(
        {
          amount: request.amount_cents,
          currency: request.currency,
          payment_method: request.payment_method,
          confirm: true,
          // Cards only: no redirect-based method can leave the intent waiting on the customer.
          allowed_payment_method_types: ['card'],
          metadata: { order_id: request.order_id },
        },
        { idempotencyKey: request.idempotency_key },
      );
      if (intent.status === 'succeeded') return { status: 'captured', ref: intent.id };
      // requires_action (3-D Secure) and the like: no customer is present to complete them.
      return { status: 'declined', reason: intent.status, ref: intent.id };
    } catch (error) {
      const declined = asDecline(errors, error);
      if (declined) return declined;
      throw asUnavailable(errors, error) ?? error;
    }
  }

  async refund(request: RefundRequest): Promise<RefundResult> {
    const { client, errors } = await this.#client();
    try {
      const refund = await client.refunds.create(
        { payment_intent: request.payment_ref, amount: request.amount_cents },
        { idempotencyKey: request.idempotency_key },
      );
      return { ref: refund.id };
    } catch (error) {
      throw asUnavailable(errors, error) ?? error;
    }
  }
}

/**
 * A definitive no: a card error (402), a payment method Stripe does not know, or an amount it
 * will not charge (400 naming `payment_method` or `amount`).
 */
function asDecline(errors: typeof Stripe.errors, error: unknown): ChargeResult | undefined {
  if (!(error instanceof errors.StripeError)) return undefined;
  const ref = error.payment_intent?.id ?? null;
  if (error.rawType === 'card_error') return { status: 'declined', reason: declineReasonOf(error), ref };
  if (error.rawType === 'invalid_request_error' && error.param === 'payment_method') return { status: 'declined', reason: 'invalid_payment_method', ref };
  if (error.rawType === 'invalid_request_error' && error.param === 'amount') return { status: 'declined', reason: error.code ?? 'invalid_amount', ref: null };
  return undefined;
}

/**
 * Everything whose outcome is unknown or temporary: no answer, 5xx, 429, a 409 still in flight
 * after retries, and a rejected key (401/403: a configuration fault an operator fixes; the
 * payment stays pending meanwhile instead of failing a customer's card).
 */
function asUnavailable(errors: typeof Stripe.errors, error: unknown): ProviderUnavailable | undefined {
  if (error instanceof errors.StripeConnectionError) return new ProviderUnavailable(`Stripe did not answer: ${error.message}`, { cause: error });
  if (!(error instanceof errors.StripeError)) return undefined;
  const status = error.statusCode ?? 0;
  if (status >= 500 || [401, 403, 409, 429].includes(status)) {
    return new ProviderUnavailable(`Stripe answered ${status} (${error.rawType ?? error.type}): ${error.message}`, { cause: error });
  }
  return undefined;
}

