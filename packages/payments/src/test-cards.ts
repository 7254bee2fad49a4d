/**
 * Stripe's test-mode payment methods and what Stripe answers for each: the test provider and
 * the Stripe stand-in both follow this table, so a test reads the same with either.
 * A decline carries Stripe's `code` and `decline_code`, exactly as a `card_error` does.
 */
export type TestCardOutcome = { readonly captured: true } | { readonly captured: false; readonly code: string; readonly decline_code: string };

const captured: TestCardOutcome = { captured: true };
const declined = (code: string, decline_code: string): TestCardOutcome => ({ captured: false, code, decline_code });

const TEST_CARDS: Readonly<Record<string, TestCardOutcome>> = {
  pm_card_visa: captured,
  pm_card_visa_debit: captured,
  pm_card_mastercard: captured,
  pm_card_mastercard_debit: captured,
  pm_card_mastercard_prepaid: captured,
  pm_card_amex: captured,
  pm_card_discover: captured,
  pm_card_diners: captured,
  pm_card_jcb: captured,
  pm_card_unionpay: captured,
  pm_card_chargeDeclined: declined('card_declined', 'generic_decline'),
  pm_card_chargeDeclinedInsufficientFunds: declined('card_declined', 'insufficient_funds'),
  // The name our API contract uses for the same card.
  pm_card_insufficientFunds: declined('card_declined', 'insufficient_funds'),
  pm_card_chargeDeclinedLostCard: declined('card_declined', 'lost_card'),
  pm_card_chargeDeclinedStolenCard: declined('card_declined', 'stolen_card'),
  pm_card_chargeDeclinedFraudulent: declined('card_declined', 'fraudulent'),
  pm_card_chargeDeclinedVelocityLimitExceeded: declined('card_declined', 'card_velocity_exceeded'),
  pm_card_chargeDeclinedExpiredCard: declined('expired_card', 'expired_card'),
  pm_card_chargeDeclinedIncorrectCvc: declined('incorrect_cvc', 'incorrect_cvc'),
  pm_card_chargeDeclinedProcessingError: declined('processing_error', 'processing_error'),
};

/** Stripe refuses to charge less than 50 cents in USD (`amount_too_small`). */
export const MIN_CHARGE_CENTS = 50;

/** What Stripe's test mode does with `paymentMethod`; undefined for a method it does not know. */
export function testCardOutcome(paymentMethod: string): TestCardOutcome | undefined {
  return Object.hasOwn(TEST_CARDS, paymentMethod) ? TEST_CARDS[paymentMethod] : undefined;
}

/**
 * The `failure_reason` we record for a Stripe card error: the specific `decline_code` when
 * there is one, else the error `code`; Stripe's `generic_decline` says no more than `card_declined`.
 */
export function declineReasonOf(error: { code?: string | null | undefined; decline_code?: string | null | undefined }): string {
  if (error.decline_code && error.decline_code !== 'generic_decline') return error.decline_code;
  return error.code ?? 'card_declined';
}
