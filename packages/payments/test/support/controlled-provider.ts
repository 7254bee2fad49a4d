import { ProviderUnavailable, type ChargeRequest, type ChargeResult, type PaymentProvider, type RefundRequest, type RefundResult } from '../../src/index.ts';

/**
 * Wraps a real provider so a test can stage what goes wrong around it: an outage (nothing
 * reaches the provider), a charge whose answer is held back, a crash right after the provider
 * acted (the money moved, the module never heard).
 */
export class ControlledProvider implements PaymentProvider {
  readonly #inner: PaymentProvider;
  #outages = 0;
  readonly #holds: Array<{ gate: Promise<void>; arrived: () => void }> = [];
  #crashCharges = 0;
  #crashRefunds = 0;
  /** Every charge request that reached the wrapper, oldest first. */
  readonly charges: ChargeRequest[] = [];

  constructor(inner: PaymentProvider) {
    this.#inner = inner;
  }

  /** The next `calls` calls fail as unreachable, without reaching the provider. */
  outage(calls = 1): void {
    this.#outages += calls;
  }

  /** The next charge is made, but its answer waits for `release()`; `reached` resolves once the money moved. */
  holdNextCharge(): { reached: Promise<void>; release: () => void } {
    let release!: () => void;
    let arrived!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    this.#holds.push({ gate, arrived });
    return { reached, release };
  }

  /** The next charge (or refund) is made at the provider, then the caller "crashes" before hearing. */
  crashAfterNextCharge(): void {
    this.#crashCharges++;
  }
  crashAfterNextRefund(): void {
    this.#crashRefunds++;
  }

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    this.charges.push(request);
    this.#failIfOut();
    const result = await this.#inner.charge(request);
    const hold = this.#holds.shift();
    if (hold) {
      hold.arrived();
      await hold.gate;
    }
    if (this.#crashCharges > 0) {
      this.#crashCharges--;
      throw new Error('simulated crash after the provider charged');
    }
    return result;
  }

  async refund(request: RefundRequest): Promise<RefundResult> {
    this.#failIfOut();
    const result = await this.#inner.refund(request);
    if (this.#crashRefunds > 0) {
      this.#crashRefunds--;
      throw new Error('simulated crash after the provider refunded');
    }
    return result;
  }

  #failIfOut(): void {
    if (this.#outages === 0) return;
    this.#outages--;
    throw new ProviderUnavailable('simulated outage');
  }
}
