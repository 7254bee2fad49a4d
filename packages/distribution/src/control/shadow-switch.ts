import type { ShadowMismatch } from '../remote/shadow.ts';

/** Mismatches waiting for the control plane's next tick, at most (the oldest give way). */
const PENDING = 100;

/**
 * A module's shadow, as the control plane turns and reads it: on or off (every replica follows
 * the stored switch), and the mismatches seen here since the last tick, which the control plane
 * writes to the database so any replica can show them.
 */
export class ShadowSwitch {
  on = true;
  #pending: Array<ShadowMismatch & { at: Date }> = [];

  record(mismatch: ShadowMismatch): void {
    if (this.#pending.length >= PENDING) this.#pending.shift();
    this.#pending.push({ ...mismatch, at: new Date() });
  }

  drain(): Array<ShadowMismatch & { at: Date }> {
    const pending = this.#pending;
    this.#pending = [];
    return pending;
  }
}
