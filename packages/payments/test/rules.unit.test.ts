import { describe, expect, it } from 'vitest';
import { ModuleError } from '@shop/contract-kit';
import { assertPayable, outcomeOf, requestHashOf } from '../src/domain.ts';
import { declineReasonOf, testCardOutcome } from '../src/test-cards.ts';

describe('payment rules', () => {
  it('sees the same payload in the same order and method, whatever the order id case', () => {
    const id = 'AAAAAAAA-1111-4111-8111-111111111111';
    expect(requestHashOf({ order_id: id, payment_method: 'pm_card_visa' })).toBe(requestHashOf({ order_id: id.toLowerCase(), payment_method: 'pm_card_visa' }));
    expect(requestHashOf({ order_id: id, payment_method: 'pm_card_visa' })).not.toBe(requestHashOf({ order_id: id, payment_method: 'pm_card_amex' }));
  });

  it('pays only pending orders', () => {
    expect(() => assertPayable({ id: 'o', status: 'pending' })).not.toThrow();
    for (const status of ['confirmed', 'shipped', 'delivered', 'cancelled'] as const) {
      expect(() => assertPayable({ id: 'o', status })).toThrow(expect.objectContaining({ code: 'order_not_payable' }));
    }
  });

  it('turns a failed payment into payment_declined that names it', () => {
    const failed = { id: 'p1', order_id: 'o', amount_cents: 1, status: 'failed' as const, failure_reason: 'card_declined', provider_ref: null, created_at: '' };
    expect(() => outcomeOf(failed, true)).toThrow(ModuleError);
    expect(() => outcomeOf(failed, true)).toThrow(expect.objectContaining({ code: 'payment_declined', extensions: { payment_id: 'p1', failure_reason: 'card_declined' } }));
    expect(outcomeOf({ ...failed, status: 'captured', failure_reason: null }, false)).toMatchObject({ created: false });
  });

  it("names a decline by Stripe's decline_code, except the generic one", () => {
    expect(declineReasonOf({ code: 'card_declined', decline_code: 'generic_decline' })).toBe('card_declined');
    expect(declineReasonOf({ code: 'card_declined', decline_code: 'insufficient_funds' })).toBe('insufficient_funds');
    expect(declineReasonOf({ code: 'expired_card' })).toBe('expired_card');
    expect(declineReasonOf({})).toBe('card_declined');
  });

  it('knows the test cards, and nothing else', () => {
    expect(testCardOutcome('pm_card_visa')).toEqual({ captured: true });
    expect(testCardOutcome('pm_card_chargeDeclined')).toMatchObject({ captured: false, code: 'card_declined' });
    expect(testCardOutcome('toString')).toBeUndefined();
  });
});
