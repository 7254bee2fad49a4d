/**
 * The share of calls (0–100) a traffic split sends to the remote copy, changeable at run time
 * (an admin endpoint holds the same instance as the split, so a change needs no restart).
 * Whole percents only: a bucket is one percent of the keys.
 */
export class RemotePercent {
  #percent: number;

  constructor(initial: number) {
    this.#percent = checked(initial);
  }

  get(): number {
    return this.#percent;
  }

  /** Throws a RangeError, and keeps the current value, unless `percent` is an integer 0–100. */
  set(percent: number): void {
    this.#percent = checked(percent);
  }
}

function checked(percent: number): number {
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
    throw new RangeError(`remote percent must be an integer from 0 to 100, got ${percent}`);
  }
  return percent;
}
