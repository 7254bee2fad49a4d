import { randomBytes } from 'node:crypto';
import { MIN_CHARGE_CENTS, testCardOutcome } from '../../src/test-cards.ts';
import type { FormValue } from './form.ts';

/** A Stripe answer: HTTP status and JSON body. */
export interface Answer {
  readonly status: number;
  readonly body: unknown;
}

export interface PaymentIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_capturable: number;
  amount_received: number;
  currency: string;
  status: 'succeeded' | 'requires_payment_method' | 'requires_confirmation';
  payment_method: string;
  payment_method_types: string[];
  capture_method: 'automatic';
  confirmation_method: 'automatic';
  client_secret: string;
  latest_charge: string | null;
  last_payment_error: Record<string, unknown> | null;
  metadata: Record<string, FormValue>;
  created: number;
  livemode: false;
  /** Not a Stripe field (stripped from answers): the key it was created with. */
  idempotency_key: string | undefined;
}

export interface Refund {
  id: string;
  object: 'refund';
  amount: number;
  charge: string | null;
  payment_intent: string;
  currency: string;
  status: 'succeeded';
  metadata: Record<string, never>;
  created: number;
}

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);
const invalid = (message: string, extra: Record<string, unknown> = {}): Answer => ({ status: 400, body: { error: { type: 'invalid_request_error', message, ...extra } } });
const publicIntent = ({ idempotency_key: _key, ...intent }: PaymentIntent) => intent;

/** What the stand-in's Stripe account holds: intents and refunds, with Stripe's rules for creating them. */
export class StandInLedger {
  readonly intents = new Map<string, PaymentIntent>();
  readonly refunds: Refund[] = [];

  createPaymentIntent(params: Record<string, FormValue>, idempotencyKey: string | undefined): Answer {
    const amount = Number(params.amount);
    if (typeof params.amount !== 'string' || !Number.isInteger(amount)) return invalid('Missing required param: amount.', { code: 'parameter_missing', param: 'amount' });
    if (amount < MIN_CHARGE_CENTS) return invalid('Amount must be at least $0.50 usd', { code: 'amount_too_small', param: 'amount' });
    if (typeof params.currency !== 'string') return invalid('Missing required param: currency.', { code: 'parameter_missing', param: 'currency' });
    const method = typeof params.payment_method === 'string' ? params.payment_method : '';
    const outcome = testCardOutcome(method);
    if (!outcome) return invalid(`No such PaymentMethod: '${method}'`, { code: 'resource_missing', param: 'payment_method', doc_url: 'https://stripe.com/docs/error-codes/resource-missing' });

    const confirm = params.confirm === 'true';
    const captured = confirm && outcome.captured;
    const intent: PaymentIntent = {
      id: id('pi'),
      object: 'payment_intent',
      amount,
      amount_capturable: 0,
      amount_received: captured ? amount : 0,
      currency: params.currency,
      status: !confirm ? 'requires_confirmation' : captured ? 'succeeded' : 'requires_payment_method',
      payment_method: id('pm'),
      payment_method_types: Array.isArray(params.allowed_payment_method_types) ? params.allowed_payment_method_types.map(String) : ['card'],
      capture_method: 'automatic',
      confirmation_method: 'automatic',
      client_secret: '',
      latest_charge: confirm ? id('ch') : null,
      last_payment_error: null,
      metadata: typeof params.metadata === 'object' && !Array.isArray(params.metadata) ? params.metadata : {},
      created: now(),
      livemode: false,
      idempotency_key: idempotencyKey,
    };
    intent.client_secret = `${intent.id}_secret_${randomBytes(8).toString('hex')}`;
    if (confirm && !outcome.captured) {
      const error = { type: 'card_error', code: outcome.code, decline_code: outcome.decline_code, message: 'Your card was declined.', charge: intent.latest_charge };
      intent.last_payment_error = error;
      this.intents.set(intent.id, intent);
      return { status: 402, body: { error: { ...error, doc_url: `https://stripe.com/docs/error-codes/${outcome.code}`, payment_intent: publicIntent(intent) } } };
    }
    this.intents.set(intent.id, intent);
    return { status: 200, body: publicIntent(intent) };
  }

  retrievePaymentIntent(intentId: string): Answer {
    const intent = this.intents.get(intentId);
    if (!intent) return { status: 404, body: { error: { type: 'invalid_request_error', code: 'resource_missing', param: 'intent', message: `No such payment_intent: '${intentId}'` } } };
    return { status: 200, body: publicIntent(intent) };
  }

  createRefund(params: Record<string, FormValue>): Answer {
    const intentId = typeof params.payment_intent === 'string' ? params.payment_intent : '';
    const intent = this.intents.get(intentId);
    if (!intent) return invalid(`No such payment_intent: '${intentId}'`, { code: 'resource_missing', param: 'payment_intent' });
    if (intent.status !== 'succeeded') return invalid(`This PaymentIntent (${intent.id}) does not have a successful charge to refund.`, { code: 'charge_not_refundable' });
    const remaining = intent.amount_received - this.refundedOf(intent.id);
    if (remaining === 0) return invalid(`Charge ${intent.latest_charge} has already been refunded.`, { code: 'charge_already_refunded' });
    const amount = params.amount === undefined ? remaining : Number(params.amount);
    if (!Number.isInteger(amount) || amount <= 0 || amount > remaining) {
      return invalid(`Refund amount ($${(amount / 100).toFixed(2)}) is greater than unrefunded amount on charge ($${(remaining / 100).toFixed(2)})`, { code: 'amount_too_large', param: 'amount' });
    }
    const refund: Refund = { id: id('re'), object: 'refund', amount, charge: intent.latest_charge, payment_intent: intent.id, currency: intent.currency, status: 'succeeded', metadata: {}, created: now() };
    this.refunds.push(refund);
    return { status: 200, body: refund };
  }

  refundedOf(intentId: string): number {
    return this.refunds.filter((refund) => refund.payment_intent === intentId).reduce((sum, refund) => sum + refund.amount, 0);
  }
}
