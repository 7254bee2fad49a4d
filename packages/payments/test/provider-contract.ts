import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderUnavailable, type ChargeRequest, type PaymentProvider } from '../src/index.ts';
import { providerFixture, type ProviderFixture, type ProviderKind } from './support/providers.ts';

/**
 * What every PaymentProvider must do, whichever it is: the module relies on exactly this.
 * Run against the test provider and against the Stripe provider talking to the stand-in.
 */
export function paymentProviderContract(kind: ProviderKind): void {
  describe(`the ${kind} payment provider`, () => {
    let fixture: ProviderFixture;
    let provider: PaymentProvider;
    beforeAll(async () => {
      fixture = await providerFixture(kind);
      provider = fixture.provider;
    });
    afterAll(() => fixture?.close());

    const charge = (payment_method: string, overrides: Partial<ChargeRequest> = {}) =>
      provider.charge({ amount_cents: 2_500, currency: 'usd', payment_method, idempotency_key: `payment:${randomUUID()}`, order_id: randomUUID(), ...overrides });

    it('captures pm_card_visa (and the other good test cards) with a PaymentIntent ref', async () => {
      for (const method of ['pm_card_visa', 'pm_card_mastercard', 'pm_card_amex']) {
        const result = await charge(method);
        expect(result).toEqual({ status: 'captured', ref: expect.stringMatching(/^pi_/) });
      }
    });

    it.each([
      ['pm_card_chargeDeclined', 'card_declined'],
      ['pm_card_insufficientFunds', 'insufficient_funds'],
      ['pm_card_chargeDeclinedInsufficientFunds', 'insufficient_funds'],
      ['pm_card_chargeDeclinedExpiredCard', 'expired_card'],
      ['pm_card_chargeDeclinedIncorrectCvc', 'incorrect_cvc'],
      ['pm_card_chargeDeclinedFraudulent', 'fraudulent'],
      ['pm_card_chargeDeclinedLostCard', 'lost_card'],
      ['pm_card_chargeDeclinedStolenCard', 'stolen_card'],
      ['pm_card_chargeDeclinedProcessingError', 'processing_error'],
    ])('declines %s as %s, with the ref of the failed attempt', async (method, reason) => {
      expect(await charge(method)).toEqual({ status: 'declined', reason, ref: expect.stringMatching(/^pi_/) });
    });

    it('declines a payment method it does not know as invalid_payment_method', async () => {
      expect(await charge('pm_card_doesNotExist')).toEqual({ status: 'declined', reason: 'invalid_payment_method', ref: null });
    });

    it('answers the same idempotency key with the same result and charges once', async () => {
      const key = `payment:${randomUUID()}`;
      const request = { amount_cents: 1_999, currency: 'usd', payment_method: 'pm_card_visa', idempotency_key: key, order_id: randomUUID() };
      const [first, second] = [await provider.charge(request), await provider.charge(request)];
      const raced = await Promise.all(Array.from({ length: 5 }, () => provider.charge(request)));
      expect(second).toEqual(first);
      for (const result of raced) expect(result).toEqual(first);
      expect(fixture.chargesFor(key)).toBe(1);
    });

    it('replays a decline for the same key, without a second attempt', async () => {
      const same = { idempotency_key: `payment:${randomUUID()}`, order_id: randomUUID() };
      const first = await charge('pm_card_chargeDeclined', same);
      expect(await charge('pm_card_chargeDeclined', same)).toEqual(first);
    });

    it('refunds a captured charge, once for one key', async () => {
      const captured = await charge('pm_card_visa');
      if (captured.status !== 'captured') throw new Error('expected a capture');
      const request = { payment_ref: captured.ref, amount_cents: 2_500, idempotency_key: `refund:${randomUUID()}` };
      const first = await provider.refund(request);
      expect(first.ref).toMatch(/^re_/);
      expect(await provider.refund(request)).toEqual(first);
      expect(fixture.refundsOf(captured.ref)).toBe(1);
    });

    // Wire-level checks exist only for the provider that has a wire: registered, not skipped.
    if (kind === 'stripe') describe('over the wire, against the stand-in', () => {
      const standIn = () => fixture.standIn!;

      it('sends what Stripe expects: confirmed card intent, order metadata, our idempotency key', async () => {
        const key = `payment:${randomUUID()}`;
        const orderId = randomUUID();
        await charge('pm_card_visa', { idempotency_key: key, order_id: orderId });
        const sent = standIn().requests.find((request) => request.idempotencyKey === key)!;
        expect(sent).toMatchObject({ method: 'POST', path: '/v1/payment_intents' });
        const body = new URLSearchParams(sent.body);
        expect(Object.fromEntries(body)).toMatchObject({
          amount: '2500',
          currency: 'usd',
          payment_method: 'pm_card_visa',
          confirm: 'true',
          'allowed_payment_method_types[0]': 'card',
          'metadata[order_id]': orderId,
        });
        expect(standIn().chargesFor(key)[0]?.metadata).toEqual({ order_id: orderId });
      });

      it('throws ProviderUnavailable when Stripe keeps answering 500 (after the retries), and charged nothing', async () => {
        const key = `payment:${randomUUID()}`;
        standIn().failNext(3, 'error');
        await expect(charge('pm_card_visa', { idempotency_key: key })).rejects.toBeInstanceOf(ProviderUnavailable);
        expect(standIn().requests.filter((request) => request.idempotencyKey === key)).toHaveLength(3);
        expect(fixture.chargesFor(key)).toBe(0);
        // Asking again with the same key, once Stripe is back, charges once.
        expect(await charge('pm_card_visa', { idempotency_key: key })).toMatchObject({ status: 'captured' });
        expect(fixture.chargesFor(key)).toBe(1);
      });

      it("refuses one key with other parameters (Stripe's idempotency_error), as neither a decline nor an outage", async () => {
        const same = { idempotency_key: `payment:${randomUUID()}`, order_id: randomUUID() };
        await charge('pm_card_visa', same);
        const error = await charge('pm_card_visa', { ...same, amount_cents: 9_999 }).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(Error);
        expect(error).not.toBeInstanceOf(ProviderUnavailable);
        expect(error).toMatchObject({ rawType: 'idempotency_error', statusCode: 400 });
      });

      it('throws ProviderUnavailable when the connection keeps dropping', async () => {
        standIn().failNext(3, 'reset');
        await expect(charge('pm_card_visa')).rejects.toBeInstanceOf(ProviderUnavailable);
      });

      it('retries a 500 with the same key and succeeds', async () => {
        const key = `payment:${randomUUID()}`;
        standIn().failNext(1, 'error');
        expect(await charge('pm_card_visa', { idempotency_key: key })).toMatchObject({ status: 'captured' });
        expect(fixture.chargesFor(key)).toBe(1);
      });

      it('charges once when the answer is lost and the retry replays it', async () => {
        const key = `payment:${randomUUID()}`;
        standIn().failNext(1, 'lose-response');
        const result = await charge('pm_card_visa', { idempotency_key: key });
        expect(result).toMatchObject({ status: 'captured', ref: standIn().chargesFor(key)[0]?.id });
        expect(standIn().requests.filter((request) => request.idempotencyKey === key)).toHaveLength(2);
        expect(fixture.chargesFor(key)).toBe(1);
      });

      it('treats a refused secret key as unavailable (an operator fixes it; nothing is declined meanwhile)', async () => {
        const { createPaymentProvider } = await import('../src/index.ts');
        const wrongKey = createPaymentProvider({ kind: 'stripe', secretKey: 'not-a-key', apiUrl: standIn().url, maxNetworkRetries: 0 });
        await expect(wrongKey.charge({ amount_cents: 100, currency: 'usd', payment_method: 'pm_card_visa', idempotency_key: randomUUID(), order_id: randomUUID() })).rejects.toBeInstanceOf(
          ProviderUnavailable,
        );
      });

      it('throws ProviderUnavailable when Stripe cannot be reached at all', async () => {
        const { createPaymentProvider } = await import('../src/index.ts');
        const nowhere = createPaymentProvider({ kind: 'stripe', secretKey: 'sk_test_x', apiUrl: 'http://127.0.0.1:9', maxNetworkRetries: 0 });
        await expect(nowhere.refund({ payment_ref: 'pi_x', amount_cents: 100, idempotency_key: randomUUID() })).rejects.toBeInstanceOf(ProviderUnavailable);
      });
    });
  });
}
